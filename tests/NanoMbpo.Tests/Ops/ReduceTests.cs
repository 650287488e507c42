// Axis reductions (sum/mean/max, mean_all): forward against plain loops on every axis with and
// without keepDim, max's gradient to the first arg-max on ties, and axis errors naming the op.
using Xunit;
using static NanoMbpo.Tests.Ops.OpsTestUtil;

namespace NanoMbpo.Tests.Ops;

public class ReduceTests
{
    /// <summary>Reference reduction of x (as double) along axis with f folding the N values.</summary>
    static double[] RefReduce(Tensor x, int axis, Func<double[], double> f)
    {
        int a = axis < 0 ? axis + x.Rank : axis;
        int outer = ShapeUtil.Numel(x.Shape.AsSpan(0, a)), n = x.Shape[a], inner = ShapeUtil.Numel(x.Shape.AsSpan(a + 1));
        var r = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
                r[o * inner + i] = f(Enumerable.Range(0, n).Select(k => x.GetFlat((o * n + k) * inner + i)).ToArray());
        return r;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void SumMeanMaxMatchLoops(int axis)
    {
        foreach (var dt in new[] { DType.F64, DType.F32 })
        {
            var x = Rand(31, [3, 5, 19], -2, 2, dt);
            double tol = dt == DType.F64 ? 1e-14 : 1e-5;
            foreach (var keep in new[] { false, true })
            {
                var s = F.Sum(x, axis, keep); var m = F.Mean(x, axis, keep); var mx = F.Max(x, axis, keep);
                var expectShape = x.Shape.ToList();
                int a = axis < 0 ? axis + 3 : axis;
                if (keep) expectShape[a] = 1; else expectShape.RemoveAt(a);
                Assert.Equal(expectShape, s.Shape); Assert.Equal(expectShape, m.Shape); Assert.Equal(expectShape, mx.Shape);
                Close(RefReduce(x, axis, v => v.Sum()), s, tol, tol, $"sum axis {axis}");
                Close(RefReduce(x, axis, v => v.Average()), m, tol, tol, $"mean axis {axis}");
                Close(RefReduce(x, axis, v => v.Max()), mx, 0, 0, $"max axis {axis}");
            }
        }
    }

    [Fact]
    public void MeanAllAndItsGradient()
    {
        var x = Rand(32, [4, 5]).RequireGrad();
        var m = F.MeanAll(x);
        Assert.Empty(m.Shape);
        Assert.Equal(x.ToDoubleArray().Average(), m.Item(), 1e-15);
        m.Backward();
        Close(Enumerable.Repeat(1.0 / 20, 20).ToArray(), x.Grad!, 1e-17, 0, "dmean");
    }

    [Fact]
    public void MaxGradientGoesToTheFirstArgMax()
    {
        var x = Tensor.FromArray([1.0, 3.0, 3.0, 2.0, /* column axis: */ 5.0, 5.0, 0.0, 1.0], 2, 4).RequireGrad();
        F.SumAll(F.Max(x, -1)).Backward();
        Close([0, 1, 0, 0, 1, 0, 0, 0], x.Grad!, 0, 0, "last axis");
        x.ZeroGrad();
        var y = Tensor.FromArray([2.0, 7.0, 2.0, 7.0], 2, 2).RequireGrad();
        F.SumAll(F.Max(y, 0)).Backward();
        Close([1, 1, 0, 0], y.Grad!, 0, 0, "first axis");
    }

    [Fact]
    public void BadAxisNamesTheOpAndShape()
    {
        var x = Tensor.Zeros(2, 3);
        foreach (var (name, op) in new (string, Func<Tensor>)[] { ("sum", () => F.Sum(x, 2)), ("mean", () => F.Mean(x, -3)), ("max", () => F.Max(x, 5)) })
        {
            var e = Assert.ThrowsAny<ArgumentException>(op);
            Assert.Contains(name, e.Message);
            Assert.Contains("(2,3)", e.Message);
        }
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => F.Max(Tensor.Zeros(2, 0), 1)).Message);
    }
}
