// Fused scaled dot-product attention: forward against a plain double loop (padding mask with a fully
// padded row, causal), values and gradients against the composition matmul → masked_fill → softmax →
// matmul (the softmax is a private float64 one written here, independent of the softmax op), float32
// against float64, and shape errors.
using Xunit;

namespace NanoMbpo.Tests.Ops;

public class AttentionOpsBTests
{
    /// <summary>Plain loops: out[b,h,i] = Σ_j p_ij v[b,h,j] with p the masked softmax of q·k/√HS.</summary>
    static double[] Reference(Tensor q, Tensor k, Tensor v, int[]? mask, bool causal)
    {
        int B = q.Shape[0], NH = q.Shape[1], T = q.Shape[2], HS = q.Shape[3], S = k.Shape[2], HV = v.Shape[3];
        var y = new double[B * NH * T * HV];
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int i = 0; i < T; i++)
                {
                    var s = new double[S];
                    var live = new bool[S];
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < S; j++)
                    {
                        live[j] = (mask is null || mask[b * S + j] == 0) && (!causal || j <= i);
                        double dot = 0;
                        for (int c = 0; c < HS; c++) dot += q.GetFlat(((b * NH + h) * T + i) * HS + c) * k.GetFlat(((b * NH + h) * S + j) * HS + c);
                        s[j] = dot / Math.Sqrt(HS);
                        if (live[j]) max = Math.Max(max, s[j]);
                    }
                    if (double.IsNegativeInfinity(max)) continue;   // all keys masked: zeros
                    double z = 0;
                    for (int j = 0; j < S; j++) z += live[j] ? Math.Exp(s[j] - max) : 0;
                    for (int j = 0; j < S; j++)
                    {
                        if (!live[j]) continue;
                        double p = Math.Exp(s[j] - max) / z;
                        for (int c = 0; c < HV; c++) y[((b * NH + h) * T + i) * HV + c] += p * v.GetFlat(((b * NH + h) * S + j) * HV + c);
                    }
                }
        return y;
    }

    static (Tensor q, Tensor k, Tensor v) Inputs(int seed, int B, int NH, int T, int S, int HS, int HV, DType dt)
    {
        var rng = new Rng((ulong)seed);
        return (Tensor.Uniform(rng, [B, NH, T, HS], -1.5, 1.5, dt).RequireGrad(),
                Tensor.Uniform(rng, [B, NH, S, HS], -1.5, 1.5, dt).RequireGrad(),
                Tensor.Uniform(rng, [B, NH, S, HV], -1.5, 1.5, dt).RequireGrad());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void ForwardMatchesPlainLoops(bool masked, bool causal)
    {
        var (q, k, v) = Inputs(1, 3, 2, 5, 7, 4, 3, DType.F64);
        // Batch 1 is fully padded; batch 2 pads only the first key (with causal, its row 0 is fully masked).
        int[]? mask = masked ? [0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0] : null;
        var y = F.ScaledDotProductAttention(q, k, v, mask is null ? null : Tensor.FromArray(mask, 3, 7), causal);
        Assert.Equal([3, 2, 5, 3], y.Shape);
        var want = Reference(q, k, v, mask, causal);
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], y.F64[i], 12);
        if (masked)
            for (int i = 30; i < 60; i++) Assert.Equal(0.0, y.F64[i]);   // the fully padded batch outputs zeros
    }

    [Fact]
    public void FullyPaddedRowPassesNoGradient()
    {
        var (q, k, v) = Inputs(2, 2, 1, 3, 4, 2, 2, DType.F64);
        var mask = Tensor.FromArray(new[] { 0, 1, 0, 0, 1, 1, 1, 1 }, 2, 4);
        var y = F.ScaledDotProductAttention(q, k, v, mask);
        y.Backward(Tensor.Ones(y.Shape, DType.F64));
        for (int i = 6; i < 12; i++) Assert.Equal(0.0, q.Grad!.F64[i]);   // batch 1 of q
        for (int i = 8; i < 16; i++) { Assert.Equal(0.0, k.Grad!.F64[i]); Assert.Equal(0.0, v.Grad!.F64[i]); }
        for (int i = 2; i < 4; i++) { Assert.Equal(0.0, k.Grad!.F64[i]); Assert.Equal(0.0, v.Grad!.F64[i]); }   // padded key 1 of batch 0
    }

    /// <summary>Row softmax of scale·x over the last axis; a row of all −∞ gives zeros (and no gradient).</summary>
    static Tensor PrivateSoftmax(Tensor x, double scale)
    {
        int S = x.Shape[^1], rows = x.Length / S;
        var y = Tensor.Zeros(x.Shape, DType.F64);
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < S; j++) max = Math.Max(max, scale * x.F64[r * S + j]);
            if (double.IsNegativeInfinity(max)) continue;
            double z = 0;
            for (int j = 0; j < S; j++) z += Math.Exp(scale * x.F64[r * S + j] - max);
            for (int j = 0; j < S; j++) y.F64[r * S + j] = Math.Exp(scale * x.F64[r * S + j] - max) / z;
        }
        return Autograd.Record(y, "test_softmax", dy =>
        {
            var g = x.GradData<double>();
            for (int r = 0; r < rows; r++)
            {
                double dot = 0;
                for (int j = 0; j < S; j++) dot += y.F64[r * S + j] * dy.F64[r * S + j];
                for (int j = 0; j < S; j++) g[r * S + j] += scale * y.F64[r * S + j] * (dy.F64[r * S + j] - dot);
            }
        }, x);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EqualsTheCompositionOfPrimitiveOpsInValuesAndGradients(bool causal)
    {
        int B = 2, NH = 3, T = 4, S = 6, HS = 5, HV = 3;
        int[] pad = [0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0];
        var (q, k, v) = Inputs(3, B, NH, T, S, HS, HV, DType.F64);
        var (q2, k2, v2) = (q.Clone().RequireGrad(), k.Clone().RequireGrad(), v.Clone().RequireGrad());
        var fused = F.ScaledDotProductAttention(q, k, v, Tensor.FromArray(pad, B, S), causal);

        // (B,1,T,S) mask combining padding and causality, broadcast over heads by masked_fill.
        var full = new int[B * T * S];
        for (int b = 0; b < B; b++) for (int i = 0; i < T; i++) for (int j = 0; j < S; j++)
            full[(b * T + i) * S + j] = pad[b * S + j] != 0 || (causal && j > i) ? 1 : 0;
        var scores = F.MatMul(q2, k2, false, true);
        var p = PrivateSoftmax(F.MaskedFill(scores, Tensor.FromArray(full, B, 1, T, S), double.NegativeInfinity), 1 / Math.Sqrt(HS));
        var composed = F.MatMul(p, v2);

        for (int i = 0; i < fused.Length; i++) Assert.Equal(composed.F64[i], fused.F64[i], 12);
        var dy = Tensor.Uniform(new Rng(8), fused.Shape, -1, 1, DType.F64);
        fused.Backward(dy);
        composed.Backward(dy);
        foreach (var (a, b) in new[] { (q, q2), (k, k2), (v, v2) })
            for (int i = 0; i < a.Length; i++) Assert.Equal(b.Grad!.F64[i], a.Grad!.F64[i], 12);
    }

    [Fact]
    public void Float32AgreesWithFloat64()
    {
        var (q, k, v) = Inputs(4, 2, 3, 17, 19, 8, 8, DType.F64);
        var mask = Tensor.Zeros([2, 19], DType.I32);
        for (int j = 15; j < 19; j++) mask.I32[19 + j] = 1;
        var (q32, k32, v32) = (q.To(DType.F32).RequireGrad(), k.To(DType.F32).RequireGrad(), v.To(DType.F32).RequireGrad());
        var y = F.ScaledDotProductAttention(q, k, v, mask, true);
        var y32 = F.ScaledDotProductAttention(q32, k32, v32, mask, true);
        var dy = Tensor.Uniform(new Rng(5), y.Shape, -1, 1, DType.F64);
        y.Backward(dy); y32.Backward(dy.To(DType.F32));
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y.F64[i] - y32.F32[i]) <= 1e-5 + 1e-5 * Math.Abs(y.F64[i]), $"out[{i}]");
        foreach (var (a, b) in new[] { (q, q32), (k, k32), (v, v32) })
            for (int i = 0; i < a.Length; i++)
                Assert.True(Math.Abs(a.Grad!.F64[i] - b.Grad!.F32[i]) <= 1e-5 + 1e-4 * Math.Abs(a.Grad!.F64[i]), $"grad[{i}]");
    }

    [Fact]
    public void ErrorsNameTheArgumentAndShapes()
    {
        var q = Tensor.Zeros(2, 3, 4, 5);
        var e = Assert.Throws<ArgumentException>(() => F.ScaledDotProductAttention(q, Tensor.Zeros(2, 3, 6, 4), Tensor.Zeros(2, 3, 6, 5))).Message;
        Assert.Contains("scaled_dot_product_attention", e); Assert.Contains("k(2,3,6,4)", e); Assert.Contains("q(2,3,4,5)", e);
        var k = Tensor.Zeros(2, 3, 6, 5);
        e = Assert.Throws<ArgumentException>(() => F.ScaledDotProductAttention(q, k, Tensor.Zeros(2, 3, 7, 5))).Message;
        Assert.Contains("v(2,3,7,5)", e);
        e = Assert.Throws<ArgumentException>(() => F.ScaledDotProductAttention(q, k, k, Tensor.Zeros([2, 5], DType.I32))).Message;
        Assert.Contains("keyPaddingMask(2,5)", e); Assert.Contains("(2,6)", e);
        Assert.Contains("I32", Assert.Throws<ArgumentException>(() => F.ScaledDotProductAttention(q, k, k, Tensor.Zeros(2, 6))).Message);
    }
}
