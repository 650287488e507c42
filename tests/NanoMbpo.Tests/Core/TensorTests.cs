// Tensor basics (src/NanoMbpo/Tensor.cs): factories against their definitions, dtype conversion,
// copies versus views (Clone owns its data, Detach shares it), leaf marking and Item, and the errors
// for bad shapes and misuse.
using Xunit;

namespace NanoMbpo.Tests.Core;

public class TensorTests
{
    [Fact]
    public void FactoriesFillWhatTheyPromise()
    {
        var z = Tensor.Zeros([2, 3], DType.F64);
        Assert.Equal([2, 3], z.Shape); Assert.Equal(6, z.Length); Assert.All(z.ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.All(Tensor.Full([4], 2.5).ToFloatArray(), v => Assert.Equal(2.5f, v));
        var s = Tensor.Scalar(-3, DType.F64);
        Assert.Empty(s.Shape); Assert.Equal(1, s.Length); Assert.Equal(-3.0, s.Item());
        var f = Tensor.FromArray(new[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        Assert.Equal(DType.I32, f.DType); Assert.Equal(6, (int)f.GetFlat(5)); Assert.Equal("(3,2)", f.ShapeString);
        // Uniform: the same seed gives the same draws, all inside [lo, hi).
        var u1 = Tensor.Uniform(new Rng(5), [1000], -2, 3, DType.F64).ToDoubleArray();
        Assert.Equal(u1, Tensor.Uniform(new Rng(5), [1000], -2, 3, DType.F64).ToDoubleArray());
        Assert.All(u1, v => Assert.InRange(v, -2, 3 - 1e-12));
        Assert.True(u1.Min() < -1.9 && u1.Max() > 2.9, "1000 draws should reach near both ends");
    }

    [Fact]
    public void ConversionRoundsLikeACastAndCloneOwnsItsData()
    {
        var d = Tensor.FromArray(new[] { 0.1, -1.5, 1e-8 }, 3);
        var f = d.To(DType.F32);
        Assert.Equal(DType.F32, f.DType);
        Assert.Equal(new[] { 0.1f, -1.5f, 1e-8f }, f.ToFloatArray());
        var c = d.Clone();
        c.F64[0] = 42;
        Assert.Equal(0.1, d.F64[0]);          // the clone is a copy
        var v = d.Detach();
        v.F64[1] = 7;
        Assert.Equal(7.0, d.F64[1]);          // detach shares storage
        Assert.False(v.RequiresGrad);
    }

    [Fact]
    public void OnlyFloatLeavesCanRequireGrad()
    {
        var x = Tensor.Ones([2], DType.F64).RequireGrad();
        var y = F.Mul(x, x);
        Assert.True(y.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => y.RequireGrad());
        Assert.Throws<InvalidOperationException>(() => Tensor.FromArray(new[] { 1 }, 1).RequireGrad());
        Assert.Throws<InvalidOperationException>(() => Tensor.Zeros([2]).Item());
    }

    [Fact]
    public void BadShapesAreRejectedWithTheirSize()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromArray(new float[5], 2, 3));
        Assert.Contains("5 elements", e.Message);
        Assert.Contains("(2,3)", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => Tensor.Zeros([2, -1]));
    }
}
