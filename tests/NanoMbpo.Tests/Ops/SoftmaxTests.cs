// Softmax and log_softmax: values against a double reference on every axis, stability with huge
// logits, rows summing to 1, log_softmax = log(softmax), gradients against the closed forms.
using Xunit;
using static NanoMbpo.Tests.Ops.OpsTestUtil;

namespace NanoMbpo.Tests.Ops;

public class SoftmaxTests
{
    static double[] RefSoftmax(Tensor x, int axis, bool log)
    {
        int a = axis < 0 ? axis + x.Rank : axis;
        int outer = ShapeUtil.Numel(x.Shape.AsSpan(0, a)), n = x.Shape[a], inner = ShapeUtil.Numel(x.Shape.AsSpan(a + 1));
        var r = new double[x.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int At(int k) => (o * n + k) * inner + i;
                double m = Enumerable.Range(0, n).Max(k => x.GetFlat(At(k)));
                double s = Enumerable.Range(0, n).Sum(k => Math.Exp(x.GetFlat(At(k)) - m));
                for (int k = 0; k < n; k++) r[At(k)] = log ? x.GetFlat(At(k)) - m - Math.Log(s) : Math.Exp(x.GetFlat(At(k)) - m) / s;
            }
        return r;
    }

    [Theory]
    [InlineData(-1, 128)]
    [InlineData(-1, 37)]
    [InlineData(0, 6)]
    [InlineData(1, 5)]
    public void ForwardMatchesReference(int axis, int last)
    {
        foreach (var dt in new[] { DType.F64, DType.F32 })
        {
            var x = Rand(41, [3, 5, last], -6, 6, dt);
            double tol = dt == DType.F64 ? 1e-14 : 2e-6;
            Close(RefSoftmax(x, axis, false), F.Softmax(x, axis), tol, tol * 10, $"softmax axis {axis} {dt}");
            Close(RefSoftmax(x, axis, true), F.LogSoftmax(x, axis), tol * 10, tol, $"log_softmax axis {axis} {dt}");
        }
    }

    [Fact]
    public void HugeLogitsStayFinite()
    {
        var x = Tensor.FromArray([1000f, 1001f, -1000f, 0f], 1, 4);
        var y = F.Softmax(x); var ly = F.LogSoftmax(x);
        Assert.Equal(1 / (1 + Math.Exp(-1)), y.F32[1], 1e-6);
        Assert.Equal(0f, y.F32[2]);
        Assert.Equal(-Math.Log(1 + Math.Exp(-1)), ly.F32[1], 1e-5);
        Assert.Equal(-2001 - Math.Log(1 + Math.Exp(-1)), ly.F32[2], 1e-3);
        Assert.All(ly.ToDoubleArray(), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void GradientsMatchClosedForms()
    {
        var x = Rand(42, [4, 7], -2, 2).RequireGrad();
        var g = Rand(43, [4, 7]);
        var y = F.Softmax(x); y.Backward(g);
        var yv = RefSoftmax(x, -1, false);
        var expected = new double[28];
        for (int r = 0; r < 4; r++)
        {
            double dot = Enumerable.Range(0, 7).Sum(j => g.F64[r * 7 + j] * yv[r * 7 + j]);
            for (int j = 0; j < 7; j++) expected[r * 7 + j] = yv[r * 7 + j] * (g.F64[r * 7 + j] - dot);
        }
        Close(expected, x.Grad!, 1e-15, 1e-13, "dsoftmax");
        x.ZeroGrad();
        F.LogSoftmax(x).Backward(g);
        for (int r = 0; r < 4; r++)
        {
            double sg = Enumerable.Range(0, 7).Sum(j => g.F64[r * 7 + j]);
            for (int j = 0; j < 7; j++) expected[r * 7 + j] = g.F64[r * 7 + j] - yv[r * 7 + j] * sg;
        }
        Close(expected, x.Grad!, 1e-15, 1e-13, "dlog_softmax");
    }

    [Fact]
    public void BadAxisIsNamed()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => F.Softmax(Tensor.Zeros(2, 3), 2));
        Assert.Contains("softmax", e.Message);
        Assert.Contains("(2,3)", e.Message);
    }
}
