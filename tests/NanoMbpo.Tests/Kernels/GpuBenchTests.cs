// Tests of the GPU benchmark harness (src/NanoMbpo.Trainer/GpuBench.cs) that need no GPU: the
// no-CUDA path prints one clear line and returns a non-zero code, a driver failure is reported the
// same way, bad sizes are rejected, and the error measure flags wrong results. The benchmarks
// themselves only run on CUDA (`nanombpo bench gemm --device cuda`); the CudaFact here runs a small one.
// Run: dotnet test -c Release --filter "FullyQualifiedName~Kernels.GpuBenchTests".
using ILGPU;
using ILGPU.Runtime;
using NanoMbpo.Trainer;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

/// <summary>A fact that runs only where no CUDA device exists (the public entry points would
/// otherwise start real benchmarks); skipped with the reason on a GPU machine.</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    public NoCudaFactAttribute()
    {
        if (CudaFactAttribute.HasCuda) Skip = "A CUDA device is present, so RunAll would benchmark instead of reporting its absence.";
    }
}

public sealed class GpuBenchTests
{
    [Fact]
    public void NoDevice_PrintsOneLineAndReturnsNoCudaCode()
    {
        var w = new StringWriter();
        bool ran = false;
        int rc = GpuBench.Run(w, null, () => null, _ => ran = true);
        Assert.Equal(GpuBench.NoCudaExitCode, rc);
        Assert.NotEqual(0, rc);
        Assert.False(ran);
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("no CUDA device", lines[0]);
        Assert.Contains("nothing was measured", lines[0]);
    }

    [Fact]
    public void DriverFailure_IsReportedNotThrown()
    {
        var w = new StringWriter();
        int rc = GpuBench.Run(w, null, () => throw new DllNotFoundException("libcuda.so"), _ => { });
        Assert.Equal(GpuBench.NoCudaExitCode, rc);
        Assert.Contains("CUDA driver unavailable", w.ToString());
        Assert.Contains("libcuda.so", w.ToString());
    }

    [NoCudaFact]
    public void RunAllAndGemm_WithoutCuda_SayWhyAndFail()
    {
        var w = new StringWriter();
        Assert.Equal(GpuBench.NoCudaExitCode, GpuBench.RunAll(w));
        Assert.Equal(GpuBench.NoCudaExitCode, GpuBench.Gemm(64, 64, 64, w));
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("gpu bench skipped: ", l));
    }

    [Fact]
    public void Gemm_RejectsNonPositiveSizes()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GpuBench.Gemm(0, 64, 64, TextWriter.Null));
        Assert.Contains("M=0", e.Message);
    }

    [Fact]
    public void RelMaxDiff_FlagsWrongAndNaNResults()
    {
        float[] r = [1f, -2f, 4f];
        Assert.Equal(0, GpuBench.RelMaxDiff([1f, -2f, 4f], r));
        Assert.Equal(0.25, GpuBench.RelMaxDiff([1f, -2f, 5f], r), 12);
        Assert.Equal(double.PositiveInfinity, GpuBench.RelMaxDiff([float.NaN, -2f, 4f], r));
    }

    /// <summary>On a GPU: one small GEMM row through the whole harness (our kernels, cuBLAS, checks).</summary>
    [CudaFact]
    public void Gemm_Cuda_RunsAndChecks()
    {
        var w = new StringWriter();
        int rc = GpuBench.Gemm(513, 257, 385, w, new GpuBenchOptions(Warmup: 1, Samples: 3, MinSampleMs: 1));
        Assert.True(rc == 0, w.ToString());
        Assert.Contains("gemm summary", w.ToString());
    }
}
