// Broadcasting binary ops (add/sub/mul/div/minimum/maximum): forward values against a plain double
// reference over every broadcast pattern, gradients reduced over broadcast dims, operators, and
// shape/dtype errors that name the op and both shapes.
using Xunit;
using static NanoMbpo.Tests.Ops.OpsTestUtil;

namespace NanoMbpo.Tests.Ops;

public class BinaryOpTests
{
    public static TheoryData<int[], int[]> Patterns() => new()
    {
        { new[] { 3, 4 }, new[] { 3, 4 } },          // same shape
        { new[] { 2, 3, 4 }, new[] { 4 } },          // row vector over rows
        { new[] { 4 }, new[] { 2, 3, 4 } },          // row vector, a smaller
        { new[] { 2, 3, 4 }, new[] { 2, 3, 1 } },    // column
        { new[] { 2, 3, 1 }, new[] { 2, 3, 4 } },    // column, a smaller
        { new[] { 3, 4 }, Array.Empty<int>() },      // scalar ()
        { new[] { 3, 4 }, new[] { 1 } },             // scalar (1)
        { Array.Empty<int>(), new[] { 3, 4 } },      // scalar a
        { new[] { 2, 3, 4 }, new[] { 2, 1, 4 } },    // middle dim
        { new[] { 3, 1 }, new[] { 1, 4 } },          // outer product
        { new[] { 1, 3 }, new[] { 3 } },             // leading 1
        { new[] { 2, 1, 3, 1 }, new[] { 4, 1, 5 } }, // mixed
    };

    static readonly (string Name, Func<Tensor, Tensor, Tensor> Op, Func<double, double, double> Ref)[] Ops =
    [
        ("add", F.Add, (x, y) => x + y),
        ("sub", F.Sub, (x, y) => x - y),
        ("mul", F.Mul, (x, y) => x * y),
        ("div", F.Div, (x, y) => x / y),
        ("minimum", F.Minimum, Math.Min),
        ("maximum", F.Maximum, Math.Max),
    ];

    [Theory]
    [MemberData(nameof(Patterns))]
    public void ForwardMatchesReference(int[] sa, int[] sb)
    {
        foreach (var dt in new[] { DType.F64, DType.F32 })
        {
            var a = Rand(1, sa, 0.5, 1.5, dt); var b = Rand(2, sb, 0.5, 1.5, dt);
            foreach (var (name, op, f) in Ops)
            {
                var y = op(a, b);
                var (expected, shape) = BroadcastRef(a, b, f);
                Assert.Equal(shape, y.Shape);
                Close(expected, y, dt == DType.F64 ? 1e-15 : 1e-6, dt == DType.F64 ? 1e-15 : 1e-6, $"{name} {ShapeUtil.Format(sa)} {ShapeUtil.Format(sb)} {dt}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void GradientsSumOverBroadcastDims(int[] sa, int[] sb)
    {
        // For mul with L = sum(y ⊙ r): dL/da[j] = Σ over outputs fed by a[j] of r·b — computed here from the reference.
        var a = Rand(3, sa).RequireGrad(); var b = Rand(4, sb).RequireGrad();
        var y = F.Mul(a, b);
        var r = Rand(5, y.Shape);
        y.Backward(r);
        var da = new double[a.Length]; var db = new double[b.Length];
        // Recover which a/b element feeds each output by broadcasting index tensors.
        var ia = Tensor.FromArray(Enumerable.Range(0, a.Length).Select(i => (double)i).ToArray(), a.Shape);
        var ib = Tensor.FromArray(Enumerable.Range(0, b.Length).Select(i => (double)i).ToArray(), b.Shape);
        var (mapA, _) = BroadcastRef(ia, ib, (x, _) => x);
        var (mapB, _) = BroadcastRef(ia, ib, (_, z) => z);
        for (int k = 0; k < y.Length; k++)
        {
            int ja = (int)mapA[k], jb = (int)mapB[k];
            da[ja] += r.F64[k] * b.F64[jb];
            db[jb] += r.F64[k] * a.F64[ja];
        }
        Close(da, a.Grad!, 1e-12, 1e-12, "da");
        Close(db, b.Grad!, 1e-12, 1e-12, "db");
    }

    [Fact]
    public void IncompatibleShapesNameOpAndShapes()
    {
        var a = Tensor.Zeros(2, 3); var b = Tensor.Zeros(4);
        foreach (var (name, op, _) in Ops)
        {
            var e = Assert.Throws<ArgumentException>(() => op(a, b));
            Assert.Contains(name, e.Message);
            Assert.Contains("(2,3)", e.Message);
            Assert.Contains("(4)", e.Message);
        }
        var ec = Assert.Throws<ArgumentException>(() => F.Add(Tensor.Zeros(2, 3), Tensor.Zeros(3, 1, 2)));
        Assert.Contains("(3,1,2)", ec.Message);
    }

    [Fact]
    public void DtypeMismatchAndIntegerInputsAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Mul(Tensor.Zeros([2], DType.F32), Tensor.Zeros([2], DType.F64)));
        Assert.Contains("mul", e.Message);
        var ei = Assert.Throws<ArgumentException>(() => F.Add(Tensor.Zeros([2], DType.I32), Tensor.Zeros([2], DType.I32)));
        Assert.Contains("add", ei.Message);
    }

    [Fact]
    public void OperatorsMatchTheFunctions()
    {
        var a = Rand(7, [2, 3], 0.5, 1.5); var b = Rand(8, [3], 0.5, 1.5);
        Close(F.Add(a, b).ToDoubleArray(), a + b, 0, 0, "+");
        Close(F.Sub(a, b).ToDoubleArray(), a - b, 0, 0, "-");
        Close(F.Mul(a, b).ToDoubleArray(), a * b, 0, 0, "*");
        Close(F.Div(a, b).ToDoubleArray(), a / b, 0, 0, "/");
        Close(Map(a, v => -v), -a, 0, 0, "neg");
        Close(Map(a, v => v * 0.5), a * 0.5, 0, 0, "x*0.5");
        Close(Map(a, v => 0.5 * v), 0.5 * a, 0, 0, "0.5*x");
        Close(Map(a, v => 1.0 - v), 1.0 - a, 1e-16, 0, "1-x");
        Close(Map(a, v => v - 2.0), a - 2.0, 0, 0, "x-2");
        Close(Map(a, v => v + 2.0), 2.0 + a, 0, 0, "2+x");
        Close(Map(a, v => v / 4.0), a / 4.0, 0, 0, "x/4");
        Close(Map(a, v => 3.0 / v), 3.0 / a, 0, 0, "3/x");
    }

    [Fact]
    public void ScalarOpsBackward()
    {
        var x = Rand(9, [4]).RequireGrad();
        F.SumAll((1.0 - x) * 3.0 + x / 2.0).Backward();
        Close([-2.5, -2.5, -2.5, -2.5], x.Grad!, 1e-15, 0, "d((1-x)*3 + x/2)");
    }

    [Fact]
    public void MinMaxTiesSplitTheGradientAndNaNPropagates()
    {
        var a = Tensor.FromArray([1.0, 2.0, 3.0], 3).RequireGrad();
        var b = Tensor.FromArray([1.0, 5.0, 0.0], 3).RequireGrad();
        F.SumAll(F.Minimum(a, b)).Backward();
        Close([0.5, 1, 0], a.Grad!, 0, 0, "dmin/da");
        Close([0.5, 0, 1], b.Grad!, 0, 0, "dmin/db");
        a.ZeroGrad(); b.ZeroGrad();
        F.SumAll(F.Maximum(a, b)).Backward();
        Close([0.5, 0, 1], a.Grad!, 0, 0, "dmax/da");
        Close([0.5, 1, 0], b.Grad!, 0, 0, "dmax/db");
        var n = F.Minimum(Tensor.FromArray([float.NaN, 1f], 2), Tensor.FromArray([0f, float.NaN], 2));
        Assert.True(float.IsNaN(n.F32[0]) && float.IsNaN(n.F32[1]));
    }

    [Fact]
    public void LargeRowBroadcastInFloat32MatchesReference()
    {
        // Long runs exercise the SIMD bodies and tails of the TensorPrimitives kernels.
        var a = Rand(10, [7, 259], -2, 2, DType.F32); var b = Rand(11, [259], 0.5, 2, DType.F32);
        foreach (var (name, op, f) in Ops)
            Close(BroadcastRef(a, b, f).Out, op(a, b), 1e-6, 1e-6, name);
    }
}
