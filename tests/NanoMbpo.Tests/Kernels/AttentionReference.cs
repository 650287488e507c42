// Double-precision reference for the attention kernel tests (AttentionKernelTests): explicit T x S
// scores per (batch, head), masked softmax (a row with no allowed key gives 0 and lse +inf), and the
// gradients dq, dk, dv. Element positions come from the same AttentionArgs strides the kernels use,
// so dense (B,NH,T,HS)/(B,NH,S,HS)/(B,NH,S,HV) and packed (B,T,3C) layouts share one reference.
namespace NanoMbpo.Tests.Kernels;

using NanoMbpo.Kernels;

/// <summary>Reference outputs: o and dq/dk/dv in their buffers' layouts, lse dense (B,NH,T).</summary>
sealed record AttentionExpected(double[] O, double[] Lse, double[] Dq, double[] Dk, double[] Dv);

static class AttentionReference
{
    /// <summary>q, k, v are read at g.Q/K/V(b,h,t) + shift + d of their arrays; mask (B,S) nonzero =
    /// key kept; dout is in the o layout of length <paramref name="oLen"/>.</summary>
    public static AttentionExpected Run(AttentionArgs g, float[] q, int qShift, float[] k, int kShift, float[] v, int vShift,
        int[] mask, float[] dout, int oLen, bool causal)
    {
        int B = g.B, NH = g.NH, T = g.T, S = g.S, HS = g.HS, HV = g.HV;
        var eo = new double[oLen]; var eLse = new double[B * NH * T];
        var edq = new double[q.Length]; var edk = new double[k.Length]; var edv = new double[v.Length];
        double scale = 1 / Math.Sqrt(HS);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
            {
                var p = new double[T, S];
                var dsum = new double[T];
                for (int i = 0; i < T; i++)
                {
                    double m = double.NegativeInfinity;
                    var s = new double[S];
                    for (int j = 0; j < S; j++)
                    {
                        s[j] = double.NegativeInfinity;
                        if (mask[b * S + j] == 0 || (causal && j > i)) continue;
                        double dot = 0;
                        for (int d = 0; d < HS; d++) dot += (double)q[g.Q(b, h, i) + qShift + d] * k[g.K(b, h, j) + kShift + d];
                        s[j] = dot * scale;
                        m = Math.Max(m, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < S; j++) sum += double.IsNegativeInfinity(s[j]) ? 0 : Math.Exp(s[j] - m);
                    eLse[(b * NH + h) * T + i] = sum > 0 ? m + Math.Log(sum) : double.PositiveInfinity;
                    for (int j = 0; j < S; j++) p[i, j] = sum > 0 && !double.IsNegativeInfinity(s[j]) ? Math.Exp(s[j] - m) / sum : 0;
                    long oo = g.O(b, h, i);
                    for (int d = 0; d < HV; d++)
                    {
                        double acc = 0;
                        for (int j = 0; j < S; j++) acc += p[i, j] * v[g.V(b, h, j) + vShift + d];
                        eo[oo + d] = acc;
                        dsum[i] += dout[oo + d] * acc;
                    }
                }
                for (int i = 0; i < T; i++)
                    for (int j = 0; j < S; j++)
                    {
                        if (p[i, j] == 0) continue;
                        long oo = g.O(b, h, i), qo = g.Q(b, h, i) + qShift, ko = g.K(b, h, j) + kShift, vo = g.V(b, h, j) + vShift;
                        double dp = 0;
                        for (int d = 0; d < HV; d++) dp += dout[oo + d] * v[vo + d];
                        double ds = p[i, j] * (dp - dsum[i]);
                        for (int d = 0; d < HS; d++)
                        {
                            edq[qo + d] += scale * ds * k[ko + d];
                            edk[ko + d] += scale * ds * q[qo + d];
                        }
                        for (int d = 0; d < HV; d++) edv[vo + d] += p[i, j] * dout[oo + d];
                    }
            }
        return new AttentionExpected(eo, eLse, edq, edk, edv);
    }
}
