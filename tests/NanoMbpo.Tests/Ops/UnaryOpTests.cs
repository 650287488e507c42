// Unary ops (relu, gelu, tanh, sigmoid, silu, softplus, exp, log, sqrt, abs, pow, clamp): forward
// values against System.Math in double for float64 and float32 (lengths that hit the SIMD bodies
// and tails), gradients against hand formulas, torch's conventions at kinks and extremes.
using NanoMbpo.Cpu;
using Xunit;
using static NanoMbpo.Tests.Ops.OpsTestUtil;

namespace NanoMbpo.Tests.Ops;

public class UnaryOpTests
{
    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
    static double Gelu(double x) => 0.5 * x * (1 + Erf.Double(x / Math.Sqrt(2)));

    static readonly (string Name, Func<Tensor, Tensor> Op, Func<double, double> Ref, Func<double, double> Deriv, double Lo, double Hi)[] Cases =
    [
        ("relu", F.Relu, x => Math.Max(x, 0), x => x > 0 ? 1 : 0, -3, 3),
        ("gelu", F.Gelu, Gelu, x => 0.5 * (1 + Erf.Double(x / Math.Sqrt(2))) + x * Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI), -6, 6),
        ("tanh", F.Tanh, Math.Tanh, x => 1 - Math.Tanh(x) * Math.Tanh(x), -4, 4),
        ("sigmoid", F.Sigmoid, Sigmoid, x => Sigmoid(x) * (1 - Sigmoid(x)), -8, 8),
        ("silu", F.Silu, x => x * Sigmoid(x), x => Sigmoid(x) * (1 + x * (1 - Sigmoid(x))), -8, 8),
        ("softplus", F.Softplus, x => x > 20 ? x : Math.Log(1 + Math.Exp(x)), x => x > 20 ? 1 : Sigmoid(x), -10, 25),
        ("exp", F.Exp, Math.Exp, Math.Exp, -5, 5),
        ("log", F.Log, Math.Log, x => 1 / x, 0.01, 10),
        ("sqrt", F.Sqrt, Math.Sqrt, x => 0.5 / Math.Sqrt(x), 0.01, 10),
        ("abs", F.Abs, Math.Abs, x => Math.Sign(x), -3, 3),
        ("pow2.5", x => F.Pow(x, 2.5), x => Math.Pow(x, 2.5), x => 2.5 * Math.Pow(x, 1.5), 0.1, 3),
        ("pow3", x => F.Pow(x, 3), x => x * x * x, x => 3 * x * x, -2, 2),
        ("pow2", x => F.Pow(x, 2), x => x * x, x => 2 * x, -2, 2),
        ("clamp", x => F.Clamp(x, -0.5, 1.25), x => Math.Clamp(x, -0.5, 1.25), x => x >= -0.5 && x <= 1.25 ? 1 : 0, -2, 2),
    ];

    public static TheoryData<string> Names() { var d = new TheoryData<string>(); foreach (var c in Cases) d.Add(c.Name); return d; }

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardAndBackwardMatchReference(string name)
    {
        var (_, op, f, df, lo, hi) = Cases.Single(c => c.Name == name);
        foreach (var dt in new[] { DType.F64, DType.F32 })
        {
            // 2·16·3 + 5 elements: full Vector512 blocks plus a scalar tail.
            var x = Rand(21, [3, 37], lo, hi, dt).RequireGrad();
            var y = op(x);
            double tol = dt == DType.F64 ? 1e-13 : 2e-6;
            Close(Map(x, f), y, tol, tol, $"{name} {dt} forward");
            var g = Rand(22, x.Shape, -1, 1, dt);
            y.Backward(g);
            var expected = x.ToDoubleArray().Select((v, i) => g.GetFlat(i) * df(v)).ToArray();
            Close(expected, x.Grad!, tol, tol * 10, $"{name} {dt} backward");
        }
    }

    [Fact]
    public void KinksFollowTorch()
    {
        var x = Tensor.FromArray([0.0, 0.0, -0.5, 1.25], 4).RequireGrad();
        F.SumAll(F.Relu(x)).Backward();
        Close([0, 0, 0, 1], x.Grad!, 0, 0, "relu'(0) = 0");
        x.ZeroGrad(); F.SumAll(F.Abs(x)).Backward();
        Close([0, 0, -1, 1], x.Grad!, 0, 0, "abs'(0) = 0");
        x.ZeroGrad(); F.SumAll(F.Clamp(x, -0.5, 1.25)).Backward();
        Close([1, 1, 1, 1], x.Grad!, 0, 0, "clamp passes the gradient at the bounds");
    }

    [Fact]
    public void SoftplusIsStableAtExtremes()
    {
        var x = Tensor.FromArray([-30.0, -745.0, 30.0, 1000.0, -0.3], 5);
        var y = F.Softplus(x);
        Assert.Equal(9.3576229688397367794e-14, y.F64[0], 1e-27); // log1p(e^-30): naive log(1 + e^-30) loses 3 digits
        Assert.True(y.F64[1] >= 0 && y.F64[1] < 1e-300);
        Assert.Equal(30.0, y.F64[2]);
        Assert.Equal(1000.0, y.F64[3]);
        Assert.Equal(0.55435524446852712354, y.F64[4], 1e-15);
        var yf = F.Softplus(Tensor.FromArray([-100f, 100f, 0f], 3));
        Assert.True(yf.F32[0] > 0 && yf.F32[0] < 1e-40f || yf.F32[0] == 0f);
        Assert.Equal(100f, yf.F32[1]);
        Assert.Equal((float)Math.Log(2), yf.F32[2], 1e-7f);
    }

    [Fact]
    public void GeluFloat32MatchesDoubleOnBertRange()
    {
        var x = Rand(23, [64, 768], -8, 8, DType.F32);
        var y = F.Gelu(x);
        Close(Map(x, Gelu), y, 2e-6, 1e-6, "gelu f32");
    }

    [Fact]
    public void ClampRejectsInvertedBoundsAndIntegerInputs()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Clamp(Tensor.Zeros(2, 3), 1, 0));
        Assert.Contains("clamp", e.Message);
        Assert.Contains("(2,3)", e.Message);
        var ei = Assert.Throws<ArgumentException>(() => F.Exp(Tensor.Zeros([3], DType.I32)));
        Assert.Contains("exp", ei.Message);
    }

    [Fact]
    public void NaNPropagatesThroughReluAndClamp()
    {
        var x = Tensor.FromArray([float.NaN, 1f], 2);
        Assert.True(float.IsNaN(F.Relu(x).F32[0]));
        Assert.True(float.IsNaN(F.Clamp(x, 0, 0.5).F32[0]));
    }
}
