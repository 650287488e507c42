// `nanombpo parity` and the shared --device option: the table, the closing "N passed, M failed"
// line, skipped ops reported as skipped, and a clear error (exit 2) when CUDA is asked for but absent.
// Run: dotnet test -c Release --filter "FullyQualifiedName~Dispatch.ParityCommandTests".
using NanoMbpo.Tests.Kernels;
using NanoMbpo.Trainer.Commands;
using Xunit;

namespace NanoMbpo.Tests.Dispatch;

[Collection("Console")]
public sealed class ParityCommandTests
{
    [Fact]
    public void Parity_OnIlgpuCpu_PrintsRowsAndClosingLine()
    {
        var (code, output, err) = Cli.Run("parity", "--device", "ilgpu-cpu", "--filter", "softmax");
        Assert.True(code == 0, output + err);
        var lines = output.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.StartsWith("device: ilgpu-cpu", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("log_softmax ", StringComparison.Ordinal) && l.Contains("grad x0") && l.Contains("pass"));
        Assert.Contains(lines, l => l.StartsWith("softmax_axis0 ", StringComparison.Ordinal) && l.Contains("forward") && l.Contains("pass"));
        int rows = lines.Count(l => l.EndsWith("pass", StringComparison.Ordinal) || l.Contains(" pass  "));
        Assert.Equal($"{rows} passed, 0 failed", lines[^1]);
    }

    [Fact]
    public void Parity_ListsOpsWithoutKernelsAsSkipped()
    {
        var sw = new StringWriter();
        var (passed, failed, skipped) = ParityCommand.Run(sw, Device.IlgpuCpu, "dropout");
        Assert.Equal(0, passed); Assert.Equal(0, failed); Assert.True(skipped >= 1);
        Assert.Contains("skipped: device dropout draws its mask", sw.ToString());
        Assert.EndsWith("0 passed, 0 failed", sw.ToString().TrimEnd());
    }

    [Fact]
    public void GemmSweep_OnIlgpuCpu_MatchesTheReferenceAtEveryTinyShape()
    {
        var sw = new StringWriter();
        var (passed, failed) = GemmSweep.Run(Device.IlgpuCpu, sw, maxMn: 5, maxK: 3);
        Assert.True(failed == 0, sw.ToString());
        Assert.Equal(4 * 2 * 5 * 5 * 3, passed);
        Assert.EndsWith($"gemm sweep: {passed} passed, 0 failed", sw.ToString().TrimEnd());
    }

    [Fact]
    public void Ptx_WritesOneFilePerKernelAndSummarises()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nanombpo-ptx-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, err) = Cli.Run("ptx", "--out", dir, "--filter", "Softmax");
            Assert.True(code == 0, output + err);
            var files = Directory.GetFiles(dir, "*.ptx");
            Assert.True(files.Length >= 2, output);
            Assert.All(files, f => Assert.Contains(".entry", File.ReadAllText(f)));
            Assert.Contains($"{files.Length} kernels written", output);
            Assert.Contains("0 failed", output);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void DeviceCuda_WithoutCuda_IsAClearError()
    {
        if (CudaFactAttribute.HasCuda) return;   // covered by the CUDA parity test instead
        var (code, _, err) = Cli.Run("parity", "--device", "cuda", "--filter", "relu");
        Assert.Equal(2, code);
        Assert.Contains("error: --device cuda:", err);
        Assert.Contains("CUDA", err);
        Assert.Contains("--device auto", err);
    }

    [Fact]
    public void DeviceAuto_SaysWhichDeviceInOneLine()
    {
        var log = new StringWriter();
        var d = DeviceOption.Resolve("auto", log, TextWriter.Null);
        Assert.NotNull(d);
        var text = log.ToString().TrimEnd();
        Assert.DoesNotContain('\n', text);
        Assert.Contains(CudaFactAttribute.HasCuda ? "cuda" : "cpu", text);
        Assert.Equal(CudaFactAttribute.HasCuda, !d!.IsCpu);
    }
}
