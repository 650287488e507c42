// `nanombpo parity --device cuda|ilgpu-cpu [--filter S]`: runs every op/module catalog case forward
// and backward on the CPU and on the device and compares the output and each input gradient
// (DeviceParity: 1e-5 relative elementwise, 1e-4 reductions/GEMM/attention). One row per case and
// direction: name, sizes, max relative error, tolerance, pass/FAIL; ops without a device kernel are
// listed as skipped with the reason (not counted as passes). Ends with the line "N passed, M failed";
// exit code 1 on any failure, 2 when the device is unavailable.
// Tests: tests/NanoMbpo.Tests/Dispatch/ParityCommandTests.cs.
using System.CommandLine;
using System.Globalization;

namespace NanoMbpo.Trainer.Commands;

public static class ParityCommand
{
    public static Command Create()
    {
        var device = DeviceOption.Create("ilgpu-cpu", "Accelerator to compare with the CPU: cuda or ilgpu-cpu (auto picks CUDA when present).");
        var filter = new Option<string?>("--filter") { Description = "Only run cases whose name contains this text." };
        var sweep = new Option<bool>("--gemm-sweep") { Description = "Also sweep the SGEMM kernel over every small shape, transpose and beta." };
        var cmd = new Command("parity", "Compare every op's device kernels with the CPU path, forward and backward.");
        cmd.Options.Add(device);
        cmd.Options.Add(filter);
        cmd.Options.Add(sweep);
        cmd.SetAction(r =>
        {
            var d = DeviceOption.Resolve(r.GetValue(device)!, Console.Out, Console.Error);
            if (d is null) return 2;
            if (d.IsCpu)
            {
                Console.Error.WriteLine("error: parity compares the CPU with an accelerator; pass --device cuda or --device ilgpu-cpu.");
                return 2;
            }
            int sweepFailed = r.GetValue(sweep) ? GemmSweep.Run(d, Console.Out).Failed : 0;
            return Run(Console.Out, d, r.GetValue(filter)).Failed + sweepFailed > 0 ? 1 : 0;
        });
        return cmd;
    }

    /// <summary>Runs the comparison, writes the table to <paramref name="output"/> and returns the counts.</summary>
    public static (int Passed, int Failed, int Skipped) Run(TextWriter output, Device device, string? filter = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var cases = GradCatalog.All().Where(c => filter is null || c.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
        int nameW = Math.Max(24, cases.Select(c => c.Name.Length).DefaultIfEmpty(0).Max() + 2);
        output.WriteLine($"parity on {device}: {cases.Count} cases");
        output.WriteLine($"{"case".PadRight(nameW)}{"direction",-11}{"max rel err",12}  {"tol",7}  result  sizes");
        int passed = 0, failed = 0, skipped = 0;
        foreach (var c in cases)
        {
            foreach (var r in DeviceParity.Run(c, device))
            {
                string result;
                if (r.Skipped is not null) { skipped++; result = "skipped: " + r.Skipped; }
                else if (r.Passed) { passed++; result = "pass"; }
                else { failed++; result = "FAIL" + (r.Error is null ? "" : ": " + r.Error); }
                output.WriteLine(string.Create(inv,
                    $"{r.Case.PadRight(nameW)}{r.Direction,-11}{r.MaxRelError,12:0.00E+00}  {r.Tolerance,7:0E+0}  {result}  {r.Shapes}"));
            }
        }
        foreach (var r in OptimizerParity.RunAll(device, filter))   // Adam, AdamW, Polyak kernels
        {
            string result = r.Passed ? "pass" : "FAIL" + (r.Error is null ? "" : ": " + r.Error);
            if (r.Passed) passed++; else failed++;
            output.WriteLine(string.Create(inv, $"{r.Case.PadRight(nameW)}{r.Direction,-11}{r.MaxRelError,12:0.00E+00}  {r.Tolerance,7:0E+0}  {result}  {r.Shapes}"));
        }
        output.WriteLine($"{skipped} skipped (no device path; not counted)");
        output.WriteLine($"{passed} passed, {failed} failed");
        return (passed, failed, skipped);
    }
}
