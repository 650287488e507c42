// The TF32 policy (src/NanoMbpo/Tf32.cs): off by default, so device matmuls are fp32; inside an allowing
// scope, GEMMs from the size threshold up run on the TF32 kernel (emulated on ILGPU's CPU accelerator):
// results then differ from fp32 by TF32 rounding yet stay within 1e-2 of the CPU, forward and backward.
// Run: dotnet test -c Release --filter "FullyQualifiedName~Tf32PolicyTests".
using Xunit;

namespace NanoMbpo.Tests.Dispatch;

public sealed class Tf32PolicyTests
{
    static Device D => Device.IlgpuCpu;

    static (float[] Y, float[] Da, float[] Db) Run(Tensor a, Tensor b)
    {
        var ad = a.To(D).RequireGrad(); var bd = b.To(D).RequireGrad();
        var y = F.MatMul(ad, bd);
        F.SumAll(F.Mul(y, y)).Backward();
        return (y.To(Device.Cpu).ToFloatArray(), ad.Grad!.To(Device.Cpu).ToFloatArray(), bd.Grad!.To(Device.Cpu).ToFloatArray());
    }

    static double RelMax(float[] x, float[] r)
    {
        double d = 0, s = 0;
        for (int i = 0; i < r.Length; i++) { d = Math.Max(d, Math.Abs(x[i] - r[i])); s = Math.Max(s, Math.Abs(r[i])); }
        return d / Math.Max(s, 1e-30);
    }

    [Fact]
    public void OffByDefault_OnInsideAScope_WithinTf32Tolerance()
    {
        var rng = new Rng(31);
        var a = Tensor.Uniform(rng, [33, 40], -1, 1); var b = Tensor.Uniform(rng, [40, 29], -1, 1);
        var ac = a.RequireGrad(); var bc = b.RequireGrad();
        var yc = F.MatMul(ac, bc);
        F.SumAll(F.Mul(yc, yc)).Backward();
        var cpu = (yc.ToFloatArray(), ac.Grad!.ToFloatArray(), bc.Grad!.ToFloatArray());

        Assert.False(Tf32.Use(long.MaxValue));   // the process default: fp32 only
        var fp32 = Run(a.Detach(), b.Detach());
        Assert.True(RelMax(fp32.Y, cpu.Item1) < 1e-5, "fp32 device matmul");

        (float[] Y, float[] Da, float[] Db) tf32;
        using (Tf32.Scope(true, minMacs: 0)) tf32 = Run(a.Detach(), b.Detach());
        Assert.False(Tf32.Use(long.MaxValue));   // the scope restored the default
        double ey = RelMax(tf32.Y, cpu.Item1), ea = RelMax(tf32.Da, cpu.Item2), eb = RelMax(tf32.Db, cpu.Item3);
        Assert.True(ey > 1e-6, $"TF32 rounding should show (error {ey:E2}): the TF32 kernel did not run");
        Assert.True(ey < 1e-2 && ea < 1e-2 && eb < 1e-2, $"TF32 errors y {ey:E2} da {ea:E2} db {eb:E2}");

        using (Tf32.Scope(true, minMacs: 33L * 40 * 29 + 1))   // below the threshold: fp32 again
            Assert.Equal(fp32.Y, Run(a.Detach(), b.Detach()).Y);
    }

    [Fact]
    public void NegativeThresholdIsAnError() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Tf32.Scope(true, -1));
}
