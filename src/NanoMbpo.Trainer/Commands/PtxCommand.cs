// `nanombpo ptx --out DIR [--filter S] [--o2]`: compiles every ILGPU kernel (KernelCatalog) to sm_90
// PTX with no GPU needed and writes one DIR/<Type.Method>.ptx per kernel, plus a summary row each
// (PTX lines, .local bytes = local-memory arrays/spills, v4 vector loads, mul+fma count: ptxas contracts mul.f32+add.f32 into fma). Feed the files to
// `ptxas -v -arch=sm_90` where CUDA is installed for registers and spills. Exit 1 if any kernel fails.
// Tests: tests/NanoMbpo.Tests/Kernels/PtxCompileTests.cs.
using System.CommandLine;
using System.Text.RegularExpressions;
using ILGPU;
using NanoMbpo.Kernels;

namespace NanoMbpo.Trainer.Commands;

internal static partial class PtxCommand
{
    public static Command Create()
    {
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for the .ptx files.", Required = true };
        var filter = new Option<string?>("--filter") { Description = "Only kernels whose name contains this text." };
        var o2 = new Option<bool>("--o2") { Description = "Compile with ILGPU's O2 optimisation level instead of O1." };
        var cmd = new Command("ptx", "Compile every GPU kernel to sm_90 PTX (no GPU needed) and summarise it.");
        cmd.Options.Add(outDir); cmd.Options.Add(filter); cmd.Options.Add(o2);
        cmd.SetAction(r => Run(r.GetValue(outDir)!, r.GetValue(filter), r.GetValue(o2), Console.Out));
        return cmd;
    }

    public static int Run(DirectoryInfo dir, string? filter, bool o2, TextWriter w)
    {
        dir.Create();
        w.WriteLine($"{"kernel",-60} {"lines",6} {"local B",8} {"v4 ld",6} {"mul+fma",8}  status");
        int failed = 0, written = 0;
        foreach (var (name, ptx, error) in KernelCatalog.CompilePtx(o2 ? OptimizationLevel.O2 : OptimizationLevel.O1))
        {
            if (filter is not null && !name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
            if (ptx is null) { failed++; w.WriteLine($"{name,-60} {"",6} {"",8} {"",6} {"",8}  FAIL: {error}"); continue; }
            var file = Path.Combine(dir.FullName, Regex.Replace(name, "[^A-Za-z0-9_.-]", "_") + ".ptx");
            NanoMbpo.IO.AtomicFile.WriteAllText(file, ptx);
            written++;
            int local = LocalDecl().Matches(ptx).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            w.WriteLine($"{name,-60} {ptx.Split('\n').Length,6} {local,8} {Count(ptx, ".v4.f32"),6} {Count(ptx, "fma.rn.f32") + Count(ptx, "mul.f32"),8}  ok");
        }
        w.WriteLine($"{written} kernels written to {dir.FullName}, {failed} failed");
        return failed > 0 ? 1 : 0;
    }

    static int Count(string s, string what)
    {
        int n = 0;
        for (int i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    [GeneratedRegex(@"\.local\s+\.align\s+\d+\s+\.b8\s+\S+\[(\d+)\]")]
    private static partial Regex LocalDecl();
}
