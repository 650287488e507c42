// Losses (mse, cross-entropy, Gaussian NLL): values and gradients against hand computations, float32
// against float64, target range errors, and NonFiniteException when a NaN reaches a loss.
using Xunit;

namespace NanoMbpo.Tests.Ops;

public class LossOpsBTests
{
    [Fact]
    public void MseValueAndGradientsByHand()
    {
        var p = Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 2, 2).RequireGrad();
        var t = Tensor.FromArray(new double[] { 0, 2, 5, 3 }, 2, 2).RequireGrad();
        var l = F.MseLoss(p, t);
        Assert.Equal((1 + 0 + 4 + 1) / 4.0, l.Item(), 14);
        l.Backward();
        Assert.Equal([0.5, 0, -1, 0.5], p.Grad!.ToDoubleArray());
        Assert.Equal([-0.5, 0, 1, -0.5], t.Grad!.ToDoubleArray());
    }

    [Fact]
    public void CrossEntropyMatchesAHandComputation()
    {
        // Row 0: logits (1,2,3), target 0 → log(e¹+e²+e³) − 1. Row 1: (0,0,0), target 2 → log 3.
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 0, 0, 0 }, 2, 3).RequireGrad();
        var l = F.CrossEntropy(x, Tensor.FromArray(new[] { 0, 2 }, 2));
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal((Math.Log(z) - 1 + Math.Log(3)) / 2, l.Item(), 12);
        l.Backward();
        double[] want = [(Math.Exp(1) / z - 1) / 2, Math.Exp(2) / z / 2, Math.Exp(3) / z / 2, 1.0 / 6, 1.0 / 6, (1.0 / 3 - 1) / 2];
        for (int i = 0; i < 6; i++) Assert.Equal(want[i], x.Grad!.F64[i], 14);
    }

    [Fact]
    public void CrossEntropyIsStableForHugeLogits()
    {
        var x = Tensor.FromArray(new float[] { 1000, 0, -1000, 500 }, 2, 2);
        // Row 0 picks its max (loss 0); row 1 picks −1000 against 500 (loss 1500); no overflow to Inf.
        var l = F.CrossEntropy(x, Tensor.FromArray(new[] { 0, 0 }, 2));
        Assert.Equal((0 + 1500) / 2.0, l.Item(), 3);
    }

    [Fact]
    public void CrossEntropyTargetOutOfRangeNamesRowAndValue()
    {
        var e = Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(3, 4), Tensor.FromArray(new[] { 0, 4, 1 }, 3))).Message;
        Assert.Contains("cross_entropy", e); Assert.Contains("target 4 at row 1", e); Assert.Contains("4 classes", e);
        Assert.Contains("target -1", Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(1, 4), Tensor.FromArray(new[] { -1 }, 1))).Message);
        Assert.Contains("targets(2)", Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(3, 4), Tensor.FromArray(new[] { 0, 1 }, 2))).Message);
    }

    [Fact]
    public void GaussianNllValueAndGradientsByHand()
    {
        var m = Tensor.FromArray(new double[] { 0.5, -1 }, 2).RequireGrad();
        var lv = Tensor.FromArray(new double[] { 0.2, -0.7 }, 2).RequireGrad();
        var t = Tensor.FromArray(new double[] { 1.5, 0 }, 2).RequireGrad();
        var l = F.GaussianNll(m, lv, t);
        double w0 = Math.Exp(-0.2), w1 = Math.Exp(0.7);
        Assert.Equal(0.5 * (0.2 + 1 * w0 + -0.7 + 1 * w1) / 2, l.Item(), 14);
        l.Backward();
        Assert.Equal(-1 * w0 / 2, m.Grad!.F64[0], 14);
        Assert.Equal(-1 * w1 / 2, m.Grad!.F64[1], 14);
        Assert.Equal(0.5 * (1 - w0) / 2, lv.Grad!.F64[0], 14);
        Assert.Equal(0.5 * (1 - w1) / 2, lv.Grad!.F64[1], 14);
        Assert.Equal(w0 / 2, t.Grad!.F64[0], 14);
    }

    [Fact]
    public void LossesAgreeInFloat32AndFloat64()
    {
        var rng = new Rng(6);
        var a = Tensor.Uniform(rng, [33, 7], -2, 2, DType.F64);
        var b = Tensor.Uniform(rng, [33, 7], -2, 2, DType.F64);
        var c = Tensor.Uniform(rng, [33, 7], -2, 2, DType.F64);
        var tg = Tensor.FromArray(Enumerable.Range(0, 33).Select(i => i % 7).ToArray(), 33);
        Assert.Equal(F.MseLoss(a, b).Item(), F.MseLoss(a.To(DType.F32), b.To(DType.F32)).Item(), 5);
        Assert.Equal(F.CrossEntropy(a, tg).Item(), F.CrossEntropy(a.To(DType.F32), tg).Item(), 5);
        Assert.Equal(F.GaussianNll(a, b, c).Item(), F.GaussianNll(a.To(DType.F32), b.To(DType.F32), c.To(DType.F32)).Item(), 4);
    }

    [Fact]
    public void NaNReachingALossThrowsNamingIt()
    {
        var bad = Tensor.FromArray(new float[] { 1, float.NaN }, 1, 2);
        var ok = Tensor.Zeros(1, 2);
        Assert.Contains("mse_loss", Assert.Throws<NonFiniteException>(() => F.MseLoss(bad, ok)).Message);
        Assert.Contains("cross_entropy", Assert.Throws<NonFiniteException>(() => F.CrossEntropy(bad, Tensor.FromArray(new[] { 0 }, 1))).Message);
        Assert.Contains("gaussian_nll", Assert.Throws<NonFiniteException>(() => F.GaussianNll(ok, bad, ok)).Message);
        Assert.Contains("gaussian_nll", Assert.Throws<NonFiniteException>(() => F.GaussianNll(ok, Tensor.FromArray(new float[] { -200, 0 }, 1, 2), Tensor.Ones([1, 2]))).Message);
    }

    [Fact]
    public void ShapeMismatchErrorsNameTheLoss()
    {
        var e = Assert.Throws<ArgumentException>(() => F.MseLoss(Tensor.Zeros(2, 3), Tensor.Zeros(3, 2))).Message;
        Assert.Contains("mse_loss", e); Assert.Contains("(3,2)", e); Assert.Contains("(2,3)", e);
        e = Assert.Throws<ArgumentException>(() => F.GaussianNll(Tensor.Zeros(2, 3), Tensor.Zeros(2, 3), Tensor.Zeros(2))).Message;
        Assert.Contains("gaussian_nll", e); Assert.Contains("target(2)", e);
    }
}
