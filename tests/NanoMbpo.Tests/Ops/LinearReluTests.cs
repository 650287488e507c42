// F.LinearRelu (the fused MLP hidden layer) against its composition Relu(Linear(x, W, b)): the
// output and every gradient must be bit-identical, in float32 (GEMM epilogue path, with shapes that
// leave edge tiles and run the mask pass on two threads) and float64, with and without a bias, and
// for 1 and 2 threads. Also a plain double reference loop and a bad-shape error.
using NanoMbpo.Cpu;
using Xunit;

namespace NanoMbpo.Tests.Ops;

public class LinearReluTests
{
    static (float[] Y, float[] Dx, float[] Dw, float[]? Db) Run(bool fused, int rows, int inF, int outF, bool bias, DType dt)
    {
        var rng = new Rng(11);
        var x = Tensor.Uniform(rng, [rows, inF], -1, 1, dt).RequireGrad();
        var w = Tensor.Uniform(rng, [outF, inF], -0.5, 0.5, dt).RequireGrad();
        var b = bias ? Tensor.Uniform(rng, [outF], -0.3, 0.3, dt).RequireGrad() : null;
        var dy = Tensor.Uniform(rng, [rows, outF], -1, 1, dt);
        var y = fused ? F.LinearRelu(x, w, b) : F.Relu(F.Linear(x, w, b));
        var yv = ToF32(y);
        y.Backward(dy);
        return (yv, ToF32(x.Grad!), ToF32(w.Grad!), b is null ? null : ToF32(b.Grad!));
    }

    static float[] ToF32(Tensor t)
    {
        var r = new float[t.Length];
        for (int i = 0; i < r.Length; i++) r[i] = (float)t.GetFlat(i);
        return r;
    }

    [Theory]
    [InlineData(256, 64, 256, true, DType.F32)]    // MLP layer: mask pass on the caller, full tiles
    [InlineData(512, 24, 640, true, DType.F32)]    // above MaskSerialElements: two-thread mask pass
    [InlineData(37, 70, 45, true, DType.F32)]      // edge tiles in M and N, scalar tail of the mask
    [InlineData(50, 33, 16, false, DType.F32)]     // N = 16 kernel path, no bias
    [InlineData(7, 5, 9, true, DType.F64)]
    public void FusedEqualsComposedBitForBit(int rows, int inF, int outF, bool bias, DType dt)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            using var _ = Compute.With(threads: threads);
            var c = Run(false, rows, inF, outF, bias, dt);
            var f = Run(true, rows, inF, outF, bias, dt);
            Assert.Equal(c.Y, f.Y);
            Assert.Equal(c.Dx, f.Dx);
            Assert.Equal(c.Dw, f.Dw);
            Assert.Equal(c.Db, f.Db);
            Assert.Contains(f.Y, v => v == 0f);   // the clamp was exercised
            Assert.Contains(f.Y, v => v > 0f);
        }
    }

    /// <summary>The cases above cover both mask paths: the caller alone, and the two-thread split.</summary>
    [Fact]
    public void CasesStraddleTheSerialMaskLimit()
    {
        Assert.True(256 * 256 <= F.MaskSerialElements);
        Assert.True(512 * 640 > F.MaskSerialElements);
    }

    [Fact]
    public void ForwardMatchesDoubleReference()
    {
        var rng = new Rng(3);
        var x = Tensor.Uniform(rng, [19, 23], -1, 1); var w = Tensor.Uniform(rng, [29, 23], -1, 1); var b = Tensor.Uniform(rng, [29], -1, 1);
        var y = F.LinearRelu(x, w, b);
        for (int r = 0; r < 19; r++)
            for (int o = 0; o < 29; o++)
            {
                double s = b.GetFlat(o);
                for (int k = 0; k < 23; k++) s += x.GetFlat(r * 23 + k) * w.GetFlat(o * 23 + k);
                double e = Math.Max(s, 0);
                Assert.True(Math.Abs(y.GetFlat(r * 29 + o) - e) <= 1e-5 + 1e-5 * Math.Abs(e), $"y[{r},{o}] = {y.GetFlat(r * 29 + o)}, expected {e}");
            }
    }

    [Fact]
    public void NegativeZeroAndNaNBehaveAsRelu()
    {
        // A zero weight row gives pre-activation bias exactly; -0 must come out +0 (as Max(-0, 0)) and NaN stays NaN.
        var x = Tensor.FromArray(new float[] { 1f, 2f, float.NaN, 1f }, 2, 2);
        var w = Tensor.FromArray(new float[] { 0f, 0f, 1f, 1f }, 2, 2);
        var b = Tensor.FromArray(new float[] { -0f, -5f }, 2);
        var f = F.LinearRelu(x, w, b); var c = F.Relu(F.Linear(x, w, b));
        for (int i = 0; i < 4; i++) Assert.Equal(BitConverter.SingleToInt32Bits(c.F32[i]), BitConverter.SingleToInt32Bits(f.F32[i]));
        Assert.True(float.IsNaN(f.F32[2]));
    }

    [Fact]
    public void BadShapeNamesOpAndShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => F.LinearRelu(Tensor.Zeros(3, 4), Tensor.Zeros(5, 6)));
        Assert.Contains("linear_relu", ex.Message);
        Assert.Contains("(5,6)", ex.Message.Replace(" ", ""));
    }
}
