// Device parity over the whole op catalog (DeviceParity): every case with a device path runs forward
// and backward on ILGPU's CPU accelerator and must match the CPU path (1e-5 elementwise, 1e-4
// reductions/GEMM/attention). The same check runs on CUDA when a device is present, else it is
// skipped with the reason. Run: dotnet test -c Release --filter "FullyQualifiedName~Dispatch.DeviceParityTests".
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
        // Every family the device path claims must actually have run (not been skipped).
        foreach (var family in new[] { "matmul", "bmm", "linear", "add", "mul", "div", "relu", "gelu", "tanh", "sigmoid", "silu", "exp",
                     "log", "sum", "mean", "softmax", "log_softmax", "layer_norm", "reshape", "permute", "sdpa", "mse_loss",
                     "cross_entropy", "embedding", "gather" })
            Assert.Contains(rows, r => r.Case.StartsWith(family, StringComparison.Ordinal) && r.Passed);
    }
}
