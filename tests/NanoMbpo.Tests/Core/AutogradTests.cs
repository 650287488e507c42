// Autograd mechanics: accumulation over reused inputs, no-grad scopes, detach, graph freeing and
// errors for misuse.
using Xunit;

namespace NanoMbpo.Tests.Core;

public class AutogradTests
{
    [Fact]
    public void ReusedInputAccumulatesBothPaths()
    {
        // L = sum(x·Wᵀ) + sum(x·Wᵀ) → dL/dx is twice the single-path gradient.
        var rng = new Rng(1);
        var x = Tensor.Uniform(rng, [2, 3], -1, 1, DType.F64).RequireGrad();
        var w = Tensor.Uniform(rng, [4, 3], -1, 1, DType.F64).RequireGrad();
        var y = F.Linear(x, w);
        F.SumAll(y).Backward();
        var single = x.Grad!.ToDoubleArray();
        x.ZeroGrad(); w.ZeroGrad();
        var y1 = F.Linear(x, w); var y2 = F.Linear(x, w);
        var l = F.SumAll(F.MatMul(Tensor.Ones([1, 2], DType.F64), F.Linear(x, w))); // different graph shape, same x
        l.Backward();
        var viaMatmul = x.Grad!.ToDoubleArray();
        for (int i = 0; i < single.Length; i++) Assert.Equal(single[i], viaMatmul[i], 12);
        x.ZeroGrad();
        F.SumAll(y1).Backward(); F.SumAll(y2).Backward();
        var twice = x.Grad!.ToDoubleArray();
        for (int i = 0; i < single.Length; i++) Assert.Equal(2 * single[i], twice[i], 12);
    }

    [Fact]
    public void NoGradRecordsNothingAndDetachCutsTheGraph()
    {
        var x = Tensor.Ones([2, 2]).RequireGrad();
        using (Autograd.NoGrad())
        {
            var y = F.MatMul(x, x);
            Assert.False(y.RequiresGrad);
        }
        var d = F.MatMul(x, x).Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(F.MatMul(x, x).RequiresGrad);
    }

    [Fact]
    public void BackwardWithoutGradientNeedsAScalar()
    {
        var x = Tensor.Ones([2, 2]).RequireGrad();
        var y = F.MatMul(x, x);
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("one-element", e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesTheOperands()
    {
        var e = Assert.Throws<ArgumentException>(() => F.MatMul(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)));
        Assert.Contains("(2,3)", e.Message);
        Assert.Contains("(4,5)", e.Message);
    }

    [Fact]
    public void CheckFiniteNamesNaN()
    {
        var t = Tensor.FromArray(new float[] { 1, float.NaN }, 2);
        var e = Assert.Throws<NonFiniteException>(() => t.CheckFinite("loss at step 7"));
        Assert.Contains("loss at step 7", e.Message);
        Assert.Contains("NaN", e.Message);
    }
}
