// F.MultiHeadSdpa (strided heads on (B,T,C)) against the composition it replaces — reshape, permute
// to (B,NH,T,HS), F.ScaledDotProductAttention, permute back — forward and every gradient, float32
// and float64, with padding, causal masks, T ≠ S and HV ≠ HS, at sizes that take the threaded GEMM
// and softmax paths. (The float64 gradient check is the catalog's "mh_sdpa*"; MultiHeadAttention's
// torch fixtures run through it in ModuleParityTests.)
using Xunit;

namespace NanoMbpo.Tests.Ops;

public class MultiHeadSdpaTests
{
    static (float[] Y, float[] Dq, float[] Dk, float[] Dv) Run(bool fused, DType dt, int B, int NH, int T, int S, int HS, int HV, bool mask, bool causal)
    {
        var rng = new Rng(11);
        var q = Tensor.Uniform(rng, [B, T, NH * HS], -1, 1, dt).RequireGrad();
        var k = Tensor.Uniform(rng, [B, S, NH * HS], -1, 1, dt).RequireGrad();
        var v = Tensor.Uniform(rng, [B, S, NH * HV], -1, 1, dt).RequireGrad();
        var r = Tensor.Uniform(rng, [B, T, NH * HV], -1, 1, dt);
        Tensor? m = null;
        if (mask)
        {
            var mm = new int[B * S];
            for (int b = 0; b < B; b++) for (int s = S - b; s < S; s++) mm[b * S + s] = 1;   // batch b: last b keys padded
            m = Tensor.FromArray(mm, B, S);
        }
        Tensor y;
        if (fused) y = F.MultiHeadSdpa(q, k, v, NH, m, causal);
        else
        {
            Tensor Heads(Tensor x, int t, int hs) => F.Permute(F.Reshape(x, B, t, NH, hs), 0, 2, 1, 3);
            var o = F.ScaledDotProductAttention(Heads(q, T, HS), Heads(k, S, HS), Heads(v, S, HV), m, causal);
            y = F.Reshape(F.Permute(o, 0, 2, 1, 3), B, T, NH * HV);
        }
        var yv = y.ToFloatArray();
        F.SumAll(F.Mul(y, r)).Backward();
        return (yv, q.Grad!.ToFloatArray(), k.Grad!.ToFloatArray(), v.Grad!.ToFloatArray());
    }

    [Theory]
    [InlineData(DType.F32, 3, 4, 33, 29, 16, 8, true, false)]
    [InlineData(DType.F32, 2, 12, 32, 32, 32, 32, true, false)]   // the MiniLM head shape
    [InlineData(DType.F32, 2, 3, 17, 17, 8, 8, true, true)]
    [InlineData(DType.F64, 2, 2, 9, 11, 5, 3, true, true)]
    [InlineData(DType.F64, 1, 3, 7, 7, 4, 4, false, false)]
    public void MatchesTheComposition(DType dt, int B, int NH, int T, int S, int HS, int HV, bool mask, bool causal)
    {
        var a = Run(true, dt, B, NH, T, S, HS, HV, mask, causal);
        var c = Run(false, dt, B, NH, T, S, HS, HV, mask, causal);
        double tol = dt == DType.F32 ? 1e-5 : 1e-12;
        foreach (var (x, y) in new[] { (a.Y, c.Y), (a.Dq, c.Dq), (a.Dk, c.Dk), (a.Dv, c.Dv) })
        {
            Assert.Equal(y.Length, x.Length);
            for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= tol * (1 + Math.Abs(y[i])), $"element {i}: {x[i]} vs {y[i]}");
        }
        Assert.Contains(a.Dq, g => g != 0);
    }

    [Fact]
    public void BadHeadCountIsNamed()
    {
        var q = Tensor.Zeros(1, 2, 6);
        var e = Assert.Throws<ArgumentException>(() => F.MultiHeadSdpa(q, q, q, 4));
        Assert.Equal("numHeads", e.ParamName);
    }
}
