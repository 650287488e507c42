// LayerNorm: values against a double reference (biased variance, as torch), normalised rows, the
// gradient closed form in float64 and float32, and errors naming the argument and shapes.
using Xunit;
using static NanoMbpo.Tests.Ops.OpsTestUtil;

namespace NanoMbpo.Tests.Ops;

public class LayerNormTests
{
    static double[] RefLayerNorm(Tensor x, Tensor? w, Tensor? b, double eps)
    {
        int C = x.Shape[^1], rows = x.Length / C;
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, var = 0;
            for (int c = 0; c < C; c++) mean += x.GetFlat(r * C + c);
            mean /= C;
            for (int c = 0; c < C; c++) var += Math.Pow(x.GetFlat(r * C + c) - mean, 2);
            var /= C;
            for (int c = 0; c < C; c++)
                y[r * C + c] = (x.GetFlat(r * C + c) - mean) / Math.Sqrt(var + eps) * (w?.GetFlat(c) ?? 1) + (b?.GetFlat(c) ?? 0);
        }
        return y;
    }

    [Theory]
    [InlineData(768, 1e-12)]
    [InlineData(37, 1e-5)]
    [InlineData(4, 0.1)]
    public void ForwardMatchesReference(int C, double eps)
    {
        foreach (var dt in new[] { DType.F64, DType.F32 })
        {
            // An offset mean checks the two-pass variance in float32.
            var x = Rand(51, [2, 3, C], 3, 5, dt); var w = Rand(52, [C], 0.5, 1.5, dt); var b = Rand(53, [C], -1, 1, dt);
            double tol = dt == DType.F64 ? 1e-12 : 1e-5;
            Close(RefLayerNorm(x, w, b, eps), F.LayerNorm(x, w, b, eps), tol, tol, $"affine {dt}");
            Close(RefLayerNorm(x, null, null, eps), F.LayerNorm(x, null, null, eps), tol, tol, $"plain {dt}");
            Close(RefLayerNorm(x, null, b, eps), F.LayerNorm(x, null, b, eps), tol, tol, $"bias only {dt}");
        }
    }

    [Fact]
    public void GradientFloat32AgreesWithFloat64()
    {
        var x64 = Rand(54, [8, 96], -2, 2).RequireGrad(); var w64 = Rand(55, [96], 0.5, 1.5).RequireGrad(); var b64 = Rand(56, [96]).RequireGrad();
        var x32 = x64.To(DType.F32).RequireGrad(); var w32 = w64.To(DType.F32).RequireGrad(); var b32 = b64.To(DType.F32).RequireGrad();
        var g = Rand(57, [8, 96]);
        F.LayerNorm(x64, w64, b64, 1e-5).Backward(g);
        F.LayerNorm(x32, w32, b32, 1e-5).Backward(g.To(DType.F32));
        Close(x64.Grad!.ToDoubleArray(), x32.Grad!, 1e-5, 1e-4, "dx");
        Close(w64.Grad!.ToDoubleArray(), w32.Grad!, 1e-5, 1e-4, "dweight");
        Close(b64.Grad!.ToDoubleArray(), b32.Grad!, 1e-5, 1e-4, "dbias");
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        var x = Tensor.Zeros(2, 5);
        var e = Assert.Throws<ArgumentException>(() => F.LayerNorm(x, Tensor.Zeros(4), null, 1e-5));
        Assert.Contains("layer_norm", e.Message); Assert.Contains("weight", e.Message); Assert.Contains("(4)", e.Message); Assert.Contains("(2,5)", e.Message);
        var eb = Assert.Throws<ArgumentException>(() => F.LayerNorm(x, null, Tensor.Zeros(5, 1), 1e-5));
        Assert.Contains("bias", eb.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => F.LayerNorm(x, null, null, -1));
        Assert.Throws<ArgumentException>(() => F.LayerNorm(x, Tensor.Zeros([5], DType.F64), null, 1e-5));
    }
}
