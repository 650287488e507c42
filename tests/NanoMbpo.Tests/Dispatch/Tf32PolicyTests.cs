// The TF32 policy (src/NanoMbpo/Tf32.cs): off by default; a per-thread scope overrides the process
// setting and is restored on dispose; the size threshold decides. On ILGPU's CPU device (32-thread
// groups, too few for the TF32 kernel's 1x2 warps) an allowed TF32 matmul falls back to fp32 and stays
// exact; the TF32 kernel itself is tested by tests/NanoMbpo.Tests/Kernels/MatMulTf32Tests.cs and
// measured against cuBLAS TF32 by `nanombpo bench gpu`.
// Run: dotnet test -c Release --filter "FullyQualifiedName~Tf32PolicyTests".
using NanoMbpo.Kernels;
using Xunit;

namespace NanoMbpo.Tests.Dispatch;

public sealed class Tf32PolicyTests
{
    [Fact]
    public void ScopeOverridesTheDefaultAndIsRestored()
    {
        Assert.False(Tf32.Use(1, 4096, 4096, 4096));   // the process default: fp32 only
        using (Tf32.Scope(true))                       // the launcher's shape rule decides
        {
            Assert.True(Tf32.Use(1, 4096, 4096, 4096));
            Assert.False(Tf32.Use(1, 64, 4096, 4096));
        }
        using (Tf32.Scope(true, minMacs: 1000))
        {
            Assert.True(Tf32.Use(1, 10, 10, 10));
            Assert.False(Tf32.Use(1, 9, 10, 11));
            using (Tf32.Scope(false)) Assert.False(Tf32.Use(1, 4096, 4096, 4096));
            Assert.True(Tf32.Use(2, 10, 10, 10));      // the inner scope restored the outer one
        }
        Assert.False(Tf32.Use(1, 4096, 4096, 4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tf32.Scope(true, -1));
    }

    [Fact]
    public void DeviceWithoutTf32Support_FallsBackToFp32()
    {
        var d = Device.IlgpuCpu;
        Assert.False(KernelLauncher.For(d.Accelerator!).SupportsTf32);
        var rng = new Rng(31);
        var a = Tensor.Uniform(rng, [33, 40], -1, 1); var b = Tensor.Uniform(rng, [40, 29], -1, 1);
        var fp32 = F.MatMul(a.To(d), b.To(d)).To(Device.Cpu).ToFloatArray();
        float[] allowed;
        using (Tf32.Scope(true, minMacs: 0)) allowed = F.MatMul(a.To(d), b.To(d)).To(Device.Cpu).ToFloatArray();
        Assert.Equal(fp32, allowed);
    }

    /// <summary>On CUDA an allowed, large-enough matmul runs the TF32 kernel: the result differs from
    /// fp32 by TF32 rounding and stays within 1e-2 of it, forward and backward.</summary>
    [NanoMbpo.Tests.Kernels.CudaFact]
    public void OnCuda_AllowedMatmulUsesTf32()
    {
        var d = Device.Cuda;
        var rng = new Rng(32);
        var a = Tensor.Uniform(rng, [96, 80], -1, 1); var b = Tensor.Uniform(rng, [80, 72], -1, 1);
        (float[] Y, float[] Da) Run()
        {
            var ad = a.To(d).RequireGrad(); var bd = b.To(d);
            var y = F.MatMul(ad, bd);
            F.SumAll(F.Mul(y, y)).Backward();
            return (y.To(Device.Cpu).ToFloatArray(), ad.Grad!.To(Device.Cpu).ToFloatArray());
        }
        var fp32 = Run();
        (float[] Y, float[] Da) tf32;
        using (Tf32.Scope(true, minMacs: 0)) tf32 = Run();
        double Rel(float[] x, float[] r) => x.Zip(r, (p, q) => Math.Abs(p - q)).Max() / r.Max(Math.Abs);
        Assert.True(Rel(tf32.Y, fp32.Y) > 1e-6, "TF32 rounding should show: the TF32 kernel did not run");
        Assert.True(Rel(tf32.Y, fp32.Y) < 1e-2 && Rel(tf32.Da, fp32.Da) < 1e-2);
    }
}
