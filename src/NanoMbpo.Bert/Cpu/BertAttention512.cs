// BertInference's AVX-512 attention, query-major: for one (sequence, head) and a block of up to 16 query rows,
// the scores are kept transposed, Sᵀ (Tp, 16) — one Vector512 per key holding that key's score for all 16
// queries — so the softmax needs no horizontal max or sum (max and sum run across vectors), one Exp call
// covers the whole block, and the score and context loops keep 8 independent FMA chains in flight (the
// row-major 4×16 kernel kept 4, and spent most of its time on per-4-row overhead at T = 16).
// It computes exactly what the row-major kernel computed, bit for bit: the same FMA sequence per score
// (over d in order) and per context value (over keys in order), the same max, the same Exp, and each row's
// sum in the same order (16-lane groups in key order, then Vector512.Sum's pairwise tree over the lanes),
// so every cached BERT vector stays valid. Padded keys get −inf and add exact zeros, so an utterance's
// output does not depend on its batch's padding (PaddingInvarianceTests).
// Tests: tests/NanoMbpo.Bert.Tests/AttentionKernelTests.cs (bitwise against the row-major kernel kept there),
// BertParityTests (torch, ORT), PaddingInvarianceTests.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NanoMbpo.Bert.Cpu;

public sealed unsafe partial class BertInference
{
    /// <summary>Attention for the (sequence, head) units [start, end) on Vector512 (HS a multiple of 16).</summary>
    void AttentionBody512(int start, int end)
    {
        int T = attT, Tp = (T + 15) & ~15, ld = 3 * C;
        int need = HS * 16 + Tp * 16 + Tp + 16;
        var buf = scratch is { } sc && sc.Length >= need ? sc : scratch = new float[Math.Max(need, 4096)];
        float scale = 1f / MathF.Sqrt(HS);
        fixed (float* qt = buf)
        {
            float* st = qt + HS * 16, maskRow = st + Tp * 16;   // Qᵀ (HS,16), Sᵀ (Tp,16), mask (Tp)
            int maskedFor = -1;
            for (int bh = start; bh < end; bh++)
            {
                int b = bh / NH, h = bh % NH;
                float* q0 = qkv + (long)b * T * ld + h * 3 * HS, k0 = q0 + HS, v0 = q0 + 2 * HS;   // head-interleaved rows
                if (b != maskedFor)
                {
                    int* mask = keyMask + b * T;
                    for (int j = 0; j < Tp; j++) maskRow[j] = j < T && mask[j] != 0 ? 0f : float.NegativeInfinity;
                    maskedFor = b;
                }
                for (int i = 0; i < T; i += 16)
                {
                    int rows = Math.Min(16, T - i);
                    TransposeQ(q0 + (long)i * ld, ld, rows, qt);
                    ScoresT(qt, k0, ld, T, Tp, st, scale, maskRow);
                    SoftmaxT(st, Tp);
                    ContextT(st, rows, v0, ld, T, ctx + ((long)b * T + i) * C + h * HS, C);
                }
            }
        }
    }

    /// <summary>Qᵀ (HS,16) from up to 16 query rows (stride ld); rows past <paramref name="rows"/> are zeros (never stored).</summary>
    void TransposeQ(float* q, int ld, int rows, float* qt)
    {
        for (int r = 0; r < 16; r++)
        {
            if (r < rows) { float* src = q + (long)r * ld; for (int d = 0; d < HS; d++) qt[d * 16 + r] = src[d]; }
            else for (int d = 0; d < HS; d++) qt[d * 16 + r] = 0f;
        }
    }

    /// <summary>Sᵀ[j] = scale·Σ_d k_j[d]·Qᵀ[d] + mask_j for every key j &lt; T (8 keys at a time); −inf for T ≤ j &lt; Tp.</summary>
    void ScoresT(float* qt, float* k0, int ld, int T, int Tp, float* st, float scale, float* maskRow)
    {
        var vs = Vector512.Create(scale);
        int j = 0;
        for (; j + 8 <= T; j += 8)
        {
            float* k = k0 + (long)j * ld;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int d = 0; d < HS; d++)
            {
                var q = Vector512.Load(qt + d * 16);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(k[d]), q, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(k[ld + d]), q, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(k[2 * ld + d]), q, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(k[3 * ld + d]), q, a3);
                a4 = Vector512.FusedMultiplyAdd(Vector512.Create(k[4 * ld + d]), q, a4);
                a5 = Vector512.FusedMultiplyAdd(Vector512.Create(k[5 * ld + d]), q, a5);
                a6 = Vector512.FusedMultiplyAdd(Vector512.Create(k[6 * ld + d]), q, a6);
                a7 = Vector512.FusedMultiplyAdd(Vector512.Create(k[7 * ld + d]), q, a7);
            }
            float* s = st + j * 16;
            (a0 * vs + Vector512.Create(maskRow[j])).Store(s); (a1 * vs + Vector512.Create(maskRow[j + 1])).Store(s + 16);
            (a2 * vs + Vector512.Create(maskRow[j + 2])).Store(s + 32); (a3 * vs + Vector512.Create(maskRow[j + 3])).Store(s + 48);
            (a4 * vs + Vector512.Create(maskRow[j + 4])).Store(s + 64); (a5 * vs + Vector512.Create(maskRow[j + 5])).Store(s + 80);
            (a6 * vs + Vector512.Create(maskRow[j + 6])).Store(s + 96); (a7 * vs + Vector512.Create(maskRow[j + 7])).Store(s + 112);
        }
        for (; j < T; j++)
        {
            float* k = k0 + (long)j * ld;
            Vector512<float> a = default;
            for (int d = 0; d < HS; d++) a = Vector512.FusedMultiplyAdd(Vector512.Create(k[d]), Vector512.Load(qt + d * 16), a);
            (a * vs + Vector512.Create(maskRow[j])).Store(st + j * 16);
        }
        for (; j < Tp; j++) Vector512.Create(float.NegativeInfinity).Store(st + j * 16);
    }

    /// <summary>Column-wise softmax of Sᵀ (Tp,16) in place: each of the 16 queries over its Tp keys. A query whose keys
    /// are all masked gets zeros. Each query's sum runs as the row-major kernel's did: 16-lane groups added in key
    /// order, then the pairwise tree of Vector512.Sum over the 16 lanes.</summary>
    static void SoftmaxT(float* st, int Tp)
    {
        var mx = Vector512.Create(float.NegativeInfinity);
        for (int j = 0; j < Tp; j++) mx = Vector512.Max(mx, Vector512.Load(st + j * 16));
        // An all-masked query: subtract 0 instead of −inf (−inf − −inf would be NaN); its scores stay −inf → 0.
        mx = Vector512.ConditionalSelect(Vector512.Equals(mx, Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero, mx);
        for (int j = 0; j < Tp; j++) (Vector512.Load(st + j * 16) - mx).Store(st + j * 16);
        var all = new Span<float>(st, Tp * 16);
        TensorPrimitives.Exp(all, all);
        // lane[i] = Σ_g e[16g + i] (g in key order), as the row-major acc += row[j..j+16].
        Vector512<float> l0 = Vector512.Load(st), l1 = Vector512.Load(st + 16), l2 = Vector512.Load(st + 32), l3 = Vector512.Load(st + 48);
        Vector512<float> l4 = Vector512.Load(st + 64), l5 = Vector512.Load(st + 80), l6 = Vector512.Load(st + 96), l7 = Vector512.Load(st + 112);
        Vector512<float> l8 = Vector512.Load(st + 128), l9 = Vector512.Load(st + 144), l10 = Vector512.Load(st + 160), l11 = Vector512.Load(st + 176);
        Vector512<float> l12 = Vector512.Load(st + 192), l13 = Vector512.Load(st + 208), l14 = Vector512.Load(st + 224), l15 = Vector512.Load(st + 240);
        for (int g = 16; g < Tp; g += 16)
        {
            float* e = st + g * 16;
            l0 += Vector512.Load(e); l1 += Vector512.Load(e + 16); l2 += Vector512.Load(e + 32); l3 += Vector512.Load(e + 48);
            l4 += Vector512.Load(e + 64); l5 += Vector512.Load(e + 80); l6 += Vector512.Load(e + 96); l7 += Vector512.Load(e + 112);
            l8 += Vector512.Load(e + 128); l9 += Vector512.Load(e + 144); l10 += Vector512.Load(e + 160); l11 += Vector512.Load(e + 176);
            l12 += Vector512.Load(e + 192); l13 += Vector512.Load(e + 208); l14 += Vector512.Load(e + 224); l15 += Vector512.Load(e + 240);
        }
        var sum = Tree(l0, l1, l2, l3, l4, l5, l6, l7) + Tree(l8, l9, l10, l11, l12, l13, l14, l15);
        var inv = Vector512.ConditionalSelect(Vector512.Equals(sum, Vector512<float>.Zero), Vector512<float>.Zero, Vector512<float>.One / sum);
        for (int j = 0; j < Tp; j++) (Vector512.Load(st + j * 16) * inv).Store(st + j * 16);
    }

    /// <summary>Vector512.Sum's order over 8 consecutive lanes: Sum256 = Sum128(lo) + Sum128(hi), Sum128 = (a+b)+(c+d).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Tree(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d,
        Vector512<float> e, Vector512<float> f, Vector512<float> g, Vector512<float> h) => ((a + b) + (c + d)) + ((e + f) + (g + h));

    /// <summary>o_r = Σ_{j&lt;T} p_rj·v_j (keys in order) for up to 16 query rows, p read from Pᵀ (Tp,16); 4 rows × 2
    /// head-dim vectors (8 FMA chains) at a time.</summary>
    void ContextT(float* pt, int rows, float* v0, int ld, int T, float* o, int ldo)
    {
        for (int r = 0; r < rows; r += 4)
        {
            int n = Math.Min(4, rows - r);
            int r1 = r + Math.Min(1, n - 1), r2 = r + Math.Min(2, n - 1), r3 = r + Math.Min(3, n - 1);
            int d = 0;
            for (; d + 32 <= HS; d += 32)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
                for (int j = 0; j < T; j++)
                {
                    float* v = v0 + (long)j * ld + d;
                    var va = Vector512.Load(v); var vb = Vector512.Load(v + 16);
                    float* p = pt + j * 16;
                    var p0 = Vector512.Create(p[r]); var p1 = Vector512.Create(p[r1]); var p2 = Vector512.Create(p[r2]); var p3 = Vector512.Create(p[r3]);
                    a0 = Vector512.FusedMultiplyAdd(p0, va, a0); b0 = Vector512.FusedMultiplyAdd(p0, vb, b0);
                    a1 = Vector512.FusedMultiplyAdd(p1, va, a1); b1 = Vector512.FusedMultiplyAdd(p1, vb, b1);
                    a2 = Vector512.FusedMultiplyAdd(p2, va, a2); b2 = Vector512.FusedMultiplyAdd(p2, vb, b2);
                    a3 = Vector512.FusedMultiplyAdd(p3, va, a3); b3 = Vector512.FusedMultiplyAdd(p3, vb, b3);
                }
                float* out0 = o + (long)r * ldo + d;
                a0.Store(out0); b0.Store(out0 + 16);
                if (n > 1) { a1.Store(out0 + ldo); b1.Store(out0 + ldo + 16); }
                if (n > 2) { a2.Store(out0 + 2 * ldo); b2.Store(out0 + 2 * ldo + 16); }
                if (n > 3) { a3.Store(out0 + 3 * ldo); b3.Store(out0 + 3 * ldo + 16); }
            }
            for (; d < HS; d += 16)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int j = 0; j < T; j++)
                {
                    var v = Vector512.Load(v0 + (long)j * ld + d);
                    float* p = pt + j * 16;
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[r]), v, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[r1]), v, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[r2]), v, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[r3]), v, a3);
                }
                float* out0 = o + (long)r * ldo + d;
                a0.Store(out0);
                if (n > 1) a1.Store(out0 + ldo);
                if (n > 2) a2.Store(out0 + 2 * ldo);
                if (n > 3) a3.Store(out0 + 3 * ldo);
            }
        }
    }
}
