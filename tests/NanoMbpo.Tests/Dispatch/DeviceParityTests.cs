// Device parity over the whole op catalog (DeviceParity): every case runs forward and backward on
// ILGPU's CPU accelerator and must match the CPU path within its op descriptor's tolerance class
// (1e-5 pointwise, 1e-4 accumulating). Nothing may be skipped unless its descriptor says why
// (CpuOnly, NoParity of the op or the case), and every op the catalog declares device-capable must have passed every one of
// its cases: the required families derive from GradCatalog.Ops(), not from a list or a count. The same
// check runs on CUDA when a device is present. Run: dotnet test -c Release --filter "FullyQualifiedName~Dispatch.DeviceParityTests".
using NanoMbpo.Tests.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace NanoMbpo.Tests.Dispatch;

public sealed class DeviceParityTests(ITestOutputHelper output)
{
    [Fact] public void EveryCatalogCase_MatchesCpu_OnIlgpuCpu() => Check(Device.IlgpuCpu);

    [CudaFact] public void EveryCatalogCase_MatchesCpu_OnCuda() => Check(Device.Cuda);

    void Check(Device device)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var rows = DeviceParity.RunAll(device).ToList();
        foreach (var r in rows)
            output.WriteLine($"{r.Case,-32} {r.Direction,-9} {r.MaxRelError,10:E2} {(r.Skipped is not null ? "skip: " + r.Skipped : r.Passed ? "pass" : "FAIL " + r.Error)}");
        output.WriteLine($"{sw.Elapsed.TotalSeconds:F1} s");
        var failed = rows.Where(r => r.Failed).ToList();
        Assert.True(failed.Count == 0, "parity failures:\n" + string.Join("\n", failed.Select(f =>
            $"{f.Case} {f.Direction} {f.Shapes}: {(f.Error ?? $"max rel error {f.MaxRelError:E2} > {f.Tolerance:E0}")}")));
        AssertComplete(rows);
    }

    /// <summary>A skip is only allowed where the case's op declares one; every device-capable op has
    /// rows for each of its cases and all of them passed.</summary>
    static void AssertComplete(IReadOnlyList<ParityRow> rows)
    {
        var byName = GradCatalog.All().ToDictionary(c => c.Name);
        var problems = new List<string>();
        foreach (var r in rows.Where(r => r.Skipped is not null))
        {
            var c = byName[r.Case];
            if (c.ParitySkip is null && c.Op.CpuOnly is null) problems.Add($"{r.Case}: skipped without a declared reason: {r.Skipped}");
        }
        foreach (var op in GradCatalog.Ops().Where(o => o.OnDevice && o.NoParity is null))
            foreach (var c in GradCatalog.All().Where(c => c.Op == op && c.ParitySkip is null))
            {
                var mine = rows.Where(r => r.Case == c.Name).ToList();
                if (mine.Count == 0 || !mine.All(r => r.Passed))
                    problems.Add($"{op.Op}: case {c.Name} did not pass on the device ({mine.Count} rows)");
            }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>The parity harness reports an op whose device path throws NotSupportedException as a
    /// failure (it used to be a skip), unless the op's descriptor declares it CPU-only.</summary>
    [Fact]
    public void AThrowingKernelIsAFailure_UnlessDeclaredCpuOnly()
    {
        var c = GradCatalog.All().Single(x => x.Name == "relu");
        var throwing = c with
        {
            Build = (rng, dt) =>
            {
                var p = c.Build(rng, dt);
                return new GradProblem(p.Checked, () => p.Checked[0].Device.IsCpu ? p.Forward()
                    : throw new NotSupportedException("relu: no kernel (test)"));
            },
        };
        var rows = DeviceParity.Run(throwing, Device.IlgpuCpu);
        Assert.Contains(rows, r => r.Failed && r.Error!.Contains("no kernel (test)", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.Skipped is not null);
        var declared = throwing with { Op = throwing.Op with { CpuOnly = "test: declared CPU-only" } };
        var skipped = DeviceParity.Run(declared, Device.IlgpuCpu);
        Assert.True(skipped.Count == 1 && skipped[0].Skipped is not null && !skipped[0].Failed);
    }
}
