// Forward values and errors of the shape ops (reshape, permute, transpose, concat, slice) against
// plain index-arithmetic reference loops, in float32, float64 and int32.
using Xunit;

namespace NanoMbpo.Tests.Ops;

public class ShapeOpsBTests
{
    static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    /// <summary>Reference permute: for each output multi-index, read the source element it names.</summary>
    static double[] RefPermute(double[] x, int[] shape, int[] perm)
    {
        var outShape = perm.Select(p => shape[p]).ToArray();
        var xs = Strides(shape);
        var os = Strides(outShape);
        var y = new double[x.Length];
        for (int e = 0; e < y.Length; e++)
        {
            int src = 0;
            for (int i = 0; i < perm.Length; i++) src += (e / os[i] % outShape[i]) * xs[perm[i]];
            y[e] = x[src];
        }
        return y;
    }

    public static TheoryData<int[], int[]> PermuteShapes() => new()
    {
        { new[] { 2, 5, 3, 4 }, new[] { 0, 2, 1, 3 } },   // head split (B,T,NH,HS)→(B,NH,T,HS)
        { new[] { 2, 3, 5, 4 }, new[] { 0, 2, 1, 3 } },   // and back
        { new[] { 3, 37, 41 }, new[] { 0, 2, 1 } },       // tiled transpose with ragged tiles
        { new[] { 2, 3, 4 }, new[] { 2, 0, 1 } },         // general gather
        { new[] { 2, 1, 3, 2 }, new[] { 3, 2, 1, 0 } },
        { new[] { 4, 1, 5 }, new[] { 1, 0, 2 } },         // size-1 axis moves: a plain copy
        { new[] { 3, 4 }, new[] { 0, 1 } },               // identity
        { new[] { 2, 3, 4, 5 }, new[] { 1, 0, 3, 2 } },
    };

    [Theory]
    [MemberData(nameof(PermuteShapes))]
    public void PermuteMatchesReferenceInEveryDType(int[] shape, int[] perm)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var src = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var want = RefPermute(src, shape, perm);
        var y64 = F.Permute(Tensor.FromArray((double[])src.Clone(), shape), perm);
        Assert.Equal(perm.Select(p => shape[p]).ToArray(), y64.Shape);
        Assert.Equal(want, y64.ToDoubleArray());
        Assert.Equal(want, F.Permute(Tensor.FromArray(src.Select(v => (float)v).ToArray(), shape), perm).ToDoubleArray());
        Assert.Equal(want, F.Permute(Tensor.FromArray(src.Select(v => (int)v).ToArray(), shape), perm).ToDoubleArray());
    }

    [Fact]
    public void PermuteBackwardIsTheInversePermutation()
    {
        var x = Tensor.Uniform(new Rng(3), [2, 3, 4], -1, 1).RequireGrad();
        var y = F.Permute(x, 1, 2, 0);
        var dy = Tensor.Uniform(new Rng(4), y.Shape, -1, 1);
        y.Backward(dy);
        var want = RefPermute(dy.ToDoubleArray(), y.Shape, [2, 0, 1]);
        Assert.Equal(want, x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void TransposeEqualsPermuteWithASwap()
    {
        var x = Tensor.Uniform(new Rng(5), [2, 3, 4], -1, 1);
        Assert.Equal(F.Permute(x, 2, 1, 0).ToDoubleArray(), F.Transpose(x, 0, -1).ToDoubleArray());
        Assert.Equal([4, 3, 2], F.Transpose(x, 0, 2).Shape);
    }

    [Fact]
    public void PermuteAndTransposeRejectBadAxes()
    {
        var x = Tensor.Zeros(2, 3, 4);
        Assert.Contains("permute", Assert.Throws<ArgumentException>(() => F.Permute(x, 0, 1)).Message);
        var rep = Assert.Throws<ArgumentException>(() => F.Permute(x, 0, 1, 1)).Message;
        Assert.Contains("repeats", rep); Assert.Contains("(2,3,4)", rep);
        Assert.Contains("out of range", Assert.Throws<ArgumentException>(() => F.Permute(x, 0, 1, 3)).Message);
        Assert.Contains("transpose", Assert.Throws<ArgumentOutOfRangeException>(() => F.Transpose(x, 0, 3)).Message);
    }

    [Fact]
    public void ReshapeIsAViewAndInfersMinusOne()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 3, 4);
        var y = F.Reshape(x, 2, -1, 3);
        Assert.Equal([2, 2, 3], y.Shape);
        Assert.Equal(x.ToDoubleArray(), y.ToDoubleArray());
        x.F32[5] = 100;   // shares storage
        Assert.Equal(100, y.F32[5]);
        var ids = F.Reshape(Tensor.FromArray(new[] { 1, 2, 3, 4 }, 4), 2, 2);
        Assert.Equal(DType.I32, ids.DType);
        Assert.Equal([2, 2], ids.Shape);
    }

    [Fact]
    public void ReshapeErrorsNameTheShapes()
    {
        var x = Tensor.Zeros(3, 4);
        var e = Assert.Throws<ArgumentException>(() => F.Reshape(x, 5, 2)).Message;
        Assert.Contains("reshape", e); Assert.Contains("(3,4)", e); Assert.Contains("(5,2)", e);
        Assert.Contains("one -1", Assert.Throws<ArgumentException>(() => F.Reshape(x, -1, -1)).Message);
        Assert.Contains("infer", Assert.Throws<ArgumentException>(() => F.Reshape(x, 5, -1)).Message);
    }

    [Fact]
    public void ConcatMatchesReferenceAlongEachAxis()
    {
        var rng = new Rng(9);
        var a = Tensor.Uniform(rng, [2, 3, 4], -1, 1, DType.F64);
        for (int axis = 0; axis < 3; axis++)
        {
            var bShape = (int[])a.Shape.Clone(); bShape[axis] = 2;
            var b = Tensor.Uniform(rng, bShape, -1, 1, DType.F64);
            var y = F.Concat([a, b], axis);
            var yShape = (int[])a.Shape.Clone(); yShape[axis] += 2;
            Assert.Equal(yShape, y.Shape);
            var ys = Strides(yShape);
            for (int e = 0; e < y.Length; e++)
            {
                var idx = Enumerable.Range(0, 3).Select(i => e / ys[i] % yShape[i]).ToArray();
                double want;
                if (idx[axis] < a.Shape[axis]) want = a.GetFlat(Flat(idx, a.Shape));
                else { idx[axis] -= a.Shape[axis]; want = b.GetFlat(Flat(idx, b.Shape)); }
                Assert.Equal(want, y.GetFlat(e));
            }
        }
    }

    static int Flat(int[] idx, int[] shape)
    {
        var s = Strides(shape);
        return idx.Select((v, i) => v * s[i]).Sum();
    }

    [Fact]
    public void ConcatErrorsNameTheMismatch()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Concat([Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)], 0)).Message;
        Assert.Contains("concat", e); Assert.Contains("xs[1](3,2)", e); Assert.Contains("(2,3)", e);
        Assert.Contains("xs[1] is F64", Assert.Throws<ArgumentException>(() => F.Concat([Tensor.Zeros(2, 3), Tensor.Zeros([2, 3], DType.F64)], 0)).Message);
        Assert.Throws<ArgumentException>(() => F.Concat([], 0));
    }

    [Fact]
    public void SliceMatchesReferenceAndBackwardFillsTheWindow()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (double)i).ToArray(), 2, 4, 3).RequireGrad();
        var y = F.Slice(x, 1, 1, 2);
        Assert.Equal([2, 2, 3], y.Shape);
        var want = new List<double>();
        for (int b = 0; b < 2; b++) for (int t = 1; t < 3; t++) for (int c = 0; c < 3; c++) want.Add(b * 12 + t * 3 + c);
        Assert.Equal(want, y.ToDoubleArray());
        y.Backward(Tensor.Ones(y.Shape, DType.F64));
        var g = x.Grad!.ToDoubleArray();
        for (int e = 0; e < 24; e++) Assert.Equal(want.Contains(e) ? 1.0 : 0.0, g[e]);
    }

    [Fact]
    public void SliceErrorsNameTheWindowAndShape()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => F.Slice(Tensor.Zeros(2, 5), 1, 3, 3)).Message;
        Assert.Contains("slice", e); Assert.Contains("start 3 length 3", e); Assert.Contains("(2,5)", e);
        Assert.Throws<ArgumentOutOfRangeException>(() => F.Slice(Tensor.Zeros(2, 5), 2, 0, 1));
    }
}
