// The flat parameter buffer: views stay valid when it grows, gradients land in the flat gradient
// buffer, zero-grad and Polyak averaging are single passes.
using Xunit;

namespace NanoMbpo.Tests.Core;

public class ParameterStoreTests
{
    [Fact]
    public void ViewsSurviveGrowthAndGradientsAreFlat()
    {
        var ps = new ParameterStore(DType.F32, initialCapacity: 16);
        var w = ps.Create("w", 3, 2);
        w.F32.Fill(2f);
        var b = ps.Create("b", 100); // forces a grow
        Assert.All(w.ToFloatArray(), v => Assert.Equal(2f, v));
        var x = Tensor.Ones([1, 2]);
        F.SumAll(F.Linear(x, w, ps.Create("bias", 3))).Backward();
        // L = Σ (x·wᵀ + bias) with x = 1: dL/dw = 1 for all 6 weights, dL/dbias = 1 for 3, b unused.
        Assert.All(w.Grad!.ToFloatArray(), g => Assert.Equal(1f, g));
        Assert.All(ps["bias"].Grad!.ToFloatArray(), g => Assert.Equal(1f, g));
        Assert.All(b.Grad!.ToFloatArray(), g => Assert.Equal(0f, g));
        Assert.Equal(3.0, ps.GradNorm(), 12);   // sqrt(6 + 3)
        ps.ZeroGrad();
        Assert.Equal(0.0, ps.GradNorm());
        Assert.Equal(100, b.Length);
        Assert.Throws<ArgumentException>(() => ps.Create("w", 1));
    }

    [Fact]
    public void PolyakMovesTowardsSource()
    {
        var a = new ParameterStore(); var s = new ParameterStore();
        a.Create("p", 4); var q = s.Create("p", 4);
        q.F32.Fill(1f);
        a.PolyakUpdate(s, 0.25);
        Assert.All(a["p"].ToFloatArray(), v => Assert.Equal(0.25f, v, 6));
        var c = new ParameterStore(); c.Create("other", 4);
        Assert.Throws<ArgumentException>(() => a.PolyakUpdate(c, 0.5));
    }
}
