// Adam/AdamW: the first step moves every weight by ≈ lr·sign(g); the closed-form rows pass and a
// deliberately wrong reference would fail; float32 agrees with float64; clipping returns the
// pre-clip norm and rescales to maxNorm; a store that grew after the optimizer is rejected.
using NanoMbpo.Optim;
using Xunit;

namespace NanoMbpo.Tests.NN;

public class OptimTests
{
    [Fact]
    public void FirstAdamStepIsLrTimesSign()
    {
        var ps = new ParameterStore(DType.F64);
        var p = ps.Create("p", 4);
        p.F64.Fill(1.0);
        double[] g = [0.5, -2.0, 1e-3, -7.0];
        g.CopyTo(p.Grad!.F64);
        var opt = new Adam(ps, lr: 0.1);
        opt.Step();
        // m̂ = g, v̂ = g², so the step is lr·g/(|g|+eps).
        for (int i = 0; i < 4; i++) Assert.Equal(1.0 - 0.1 * g[i] / (Math.Abs(g[i]) + 1e-8), p.F64[i], 14);
        Assert.Equal(1, opt.StepCount);
    }

    // Step(zeroGrad: true) clears the gradients in the update pass: same parameters and moments as
    // Step() then ZeroGrad(), bit for bit, in float32 (vector body + tail, 2 threads) and float64.
    [Theory]
    [InlineData(DType.F32, 40_003)]
    [InlineData(DType.F64, 37)]
    public void StepWithZeroGradEqualsStepThenZeroGrad(DType dt, int n)
    {
        var stores = new ParameterStore[2]; var opts = new Adam[2];
        for (int s = 0; s < 2; s++)
        {
            stores[s] = new ParameterStore(dt);
            var p = stores[s].Create("p", n);
            var rng = new Rng(4);
            for (int i = 0; i < n; i++) { p.SetFlat(i, rng.NextDouble() - 0.5); p.Grad!.SetFlat(i, rng.NextDouble() - 0.5); }
            opts[s] = new Adam(stores[s], lr: 0.01, weightDecay: 0.1);
        }
        for (int step = 0; step < 2; step++)
        {
            opts[0].Step(); stores[0].ZeroGrad();
            opts[1].Step(zeroGrad: true);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(stores[0].Parameters[0].GetFlat(i), stores[1].Parameters[0].GetFlat(i));
                Assert.Equal(0.0, stores[1].Parameters[0].Grad!.GetFlat(i));
            }
            for (int s = 0; s < 2; s++) for (int i = 0; i < n; i++) stores[s].Parameters[0].Grad!.SetFlat(i, Math.Sin(i + step));
        }
    }

    [Fact]
    public void AdamWDecaysWeightsWithZeroGradient()
    {
        var ps = new ParameterStore(DType.F32);
        var p = ps.Create("p", 33);
        p.F32.Fill(2f);
        var opt = new AdamW(ps, lr: 0.1, weightDecay: 0.5);
        opt.Step();
        Assert.All(p.ToFloatArray(), v => Assert.Equal(2f * (1 - 0.05f), v, 6));
    }

    [Fact]
    public void ClosedFormRowsPass()
    {
        foreach (var r in OptimCheck.RunAll())
        {
            Assert.True(r.Passed, $"{r.Name}: {r.Error ?? r.WorstRatio.ToString()}");
            Assert.Equal(360, r.Elements);
        }
    }

    [Fact]
    public void Float32MatchesFloat64OverManySteps()
    {
        float[] Run32() => RunSteps(DType.F32);
        var a = RunSteps(DType.F32); var b = RunSteps(DType.F64);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-5, $"{i}: {a[i]} vs {b[i]}");
        Assert.Equal(Run32(), a);   // deterministic
    }

    static float[] RunSteps(DType dt)
    {
        var ps = new ParameterStore(dt);
        var p = ps.Create("w", 100);
        var rng = new Rng(3);
        for (int i = 0; i < 100; i++) p.SetFlat(i, rng.Uniform(-1, 1));
        var opt = new AdamW(ps, lr: 0.01, weightDecay: 0.01);
        for (int s = 0; s < 20; s++)
        {
            for (int i = 0; i < 100; i++) p.Grad!.SetFlat(i, p.GetFlat(i) - 0.3);   // gradient of ½(w−0.3)²
            opt.Step();
        }
        return p.ToFloatArray();
    }

    [Fact]
    public void ClipGradNormScalesToMaxNorm()
    {
        var ps = new ParameterStore(DType.F32);
        var a = ps.Create("a", 3); var b = ps.Create("b", 5000);
        a.Grad!.F32.Fill(3f); b.Grad!.F32.Fill(0f); b.Grad.F32[4999] = 4f;
        double n = Math.Sqrt(27 + 16);
        Assert.Equal(n, GradClip.GradNorm(ps), 5);
        Assert.Equal(n, GradClip.ClipGradNorm(ps, 1.0), 5);
        Assert.Equal(1.0, GradClip.GradNorm(ps), 5);
        // Below the threshold nothing changes.
        Assert.Equal(1.0, GradClip.ClipGradNorm(ps, 10.0), 5);
        Assert.Equal(1.0, GradClip.GradNorm(ps), 5);
        b.Grad.F32[0] = float.NaN;
        Assert.Throws<NonFiniteException>(() => GradClip.ClipGradNorm(ps, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradClip.ClipGradNorm(ps, 0));
    }

    [Fact]
    public void StoreGrowthAfterCreationIsAnError()
    {
        var ps = new ParameterStore();
        ps.Create("a", 4);
        var opt = new Adam(ps);
        ps.Create("b", 4);
        var e = Assert.Throws<InvalidOperationException>(opt.Step);
        Assert.Contains("grew", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(ps, beta1: 1.0));
    }
}
