// Fused scaled dot-product attention: P = softmax(q·kᵀ/√HS with masked keys excluded), out = P·v.
// Both products are batched GEMMs over B·NH; the row softmax runs in TensorPrimitives SIMD and is
// split over rows with CpuThreads. P is kept for the hand-derived backward:
//   dv = Pᵀ·dout, dP = dout·vᵀ, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dq = dS·k/√HS, dk = dSᵀ·q/√HS.
// Masking: keyPaddingMask (B,S) nonzero = padded key; causal keeps keys j ≤ i (top-left aligned, as
// torch's is_causal). A row whose keys are ALL masked outputs zeros and passes no gradient (torch
// would give NaN there). Gradient check: catalog "sdpa*"; tests (incl. equality with the composition
// of matmul + masked softmax): tests/NanoMbpo.Tests/Ops/AttentionOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using NanoMbpo.Cpu;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>q (B,NH,T,HS), k (B,NH,S,HS), v (B,NH,S,HV), keyPaddingMask I32 (B,S) nonzero = padded
    /// → (B,NH,T,HV). Fully masked query rows give zeros.</summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? keyPaddingMask = null, bool causal = false)
    {
        const string op = "scaled_dot_product_attention";
        OpCheck.Float(q, op, "q"); OpCheck.SameDType(q, k, op); OpCheck.SameDType(q, v, op);
        OpCheck.Rank(q, 4, op, "q"); OpCheck.Rank(k, 4, op, "k"); OpCheck.Rank(v, 4, op, "v");
        int B = q.Shape[0], NH = q.Shape[1], T = q.Shape[2], HS = q.Shape[3];
        int S = k.Shape[2], HV = v.Shape[3];
        if (k.Shape[0] != B || k.Shape[1] != NH || k.Shape[3] != HS)
            throw new ArgumentException($"{op}: k{k.ShapeString} must be ({B},{NH},S,{HS}) to match q{q.ShapeString}.", nameof(k));
        if (v.Shape[0] != B || v.Shape[1] != NH || v.Shape[2] != S)
            throw new ArgumentException($"{op}: v{v.ShapeString} must be ({B},{NH},{S},HV) to match k{k.ShapeString}.", nameof(v));
        int[]? mask = null;
        bool onDevice = Dev.OnDevice(op, q, k, v);
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.DType != DType.I32) throw new ArgumentException($"{op}: 'keyPaddingMask' must be I32, got {keyPaddingMask}.", nameof(keyPaddingMask));
            if (keyPaddingMask.Rank != 2 || keyPaddingMask.Shape[0] != B || keyPaddingMask.Shape[1] != S)
                throw new ArgumentException($"{op}: keyPaddingMask{keyPaddingMask.ShapeString} must be (B,S) = ({B},{S}) for q{q.ShapeString} k{k.ShapeString}.", nameof(keyPaddingMask));
            if (!onDevice) mask = keyPaddingMask.I32.ToArray();
        }
        if (onDevice) return AttentionOnDevice(q, k, v, keyPaddingMask, causal);
        var y = Tensor.Zeros([B, NH, T, HV], q.DType);
        var geo = new AttnShape(B * NH, NH, T, S, HS, HV, mask, causal);
        Array probs = q.DType == DType.F32 ? AttnForward<float>(q, k, v, y, geo) : AttnForward<double>(q, k, v, y, geo);
        return Autograd.Record(y, "sdpa", dy =>
        {
            if (q.DType == DType.F32) AttnBackward(q, k, v, dy, (float[])probs, geo);
            else AttnBackward(q, k, v, dy, (double[])probs, geo);
        }, q, k, v);
    }

    /// <summary>Device twin: the fused (FlashAttention-style) kernels, any T, S, HS, HV (flash kernels
    /// for head sizes ≤ 64, generic ones otherwise); the T×S score matrix never reaches device memory,
    /// the row logsumexp is kept for the backward. The padding mask is inverted into their "kept key"
    /// form.</summary>
    static Tensor AttentionOnDevice(Tensor q, Tensor k, Tensor v, Tensor? keyPaddingMask, bool causal)
    {
        const string op = "scaled_dot_product_attention";
        Dev.F32(op, q, k, v);
        var d = q.Device;
        int B = q.Shape[0], NH = q.Shape[1], T = q.Shape[2], HS = q.Shape[3], S = k.Shape[2], HV = v.Shape[3];
        var l = Dev.L(d);
        var y = Dev.Empty([B, NH, T, HV], d);
        if (y.Length == 0) return y;
        if (S == 0)
        {
            // No keys at all: every row is fully masked, so zeros and no gradient (the CPU twin's rule).
            l.Fill(Dev.V(y), 0f);
            return y;
        }
        Tensor? keep = null;
        if (keyPaddingMask is not null)
        {
            keep = Dev.Empty([B, S], d, DType.I32);
            l.InvertMask(Dev.VI(keep), Dev.VI(Dev.Ints(keyPaddingMask, d)));
        }
        var keepView = keep is null ? default : Dev.VI(keep);
        var g = Kernels.AttentionArgs.Contiguous(B, NH, T, S, HS, HV, causal);
        var lse = Dev.Empty([B, NH, T], d);
        l.AttentionForward(Dev.V(y), Dev.V(lse), Dev.V(q), Dev.V(k), Dev.V(v), keepView, g);
        return Autograd.Record(y, "sdpa", dy =>
        {
            using var sq = q.RequiresGrad ? Dev.Sink(q) : null;
            using var sk = k.RequiresGrad ? Dev.Sink(k) : null;
            using var sv = v.RequiresGrad ? Dev.Sink(v) : null;
            var dq = sq?.View ?? Dev.V(Dev.Empty(q.Shape, d));
            var dk = sk?.View ?? Dev.V(Dev.Empty(k.Shape, d));
            var dv = sv?.View ?? Dev.V(Dev.Empty(v.Shape, d));
            var dsum = Dev.Empty([B, NH, T], d);
            l.AttentionBackward(dq, dk, dv, Dev.V(dsum), Dev.V(dy), Dev.V(q), Dev.V(k), Dev.V(v), Dev.V(y), Dev.V(lse), keepView, g);
        }, q, k, v);
    }

    sealed record AttnShape(int BH, int NH, int T, int S, int HS, int HV, int[]? Mask, bool Causal)
    {
        public long ST => (long)S * T;
    }

    static T[] AttnForward<T>(Tensor q, Tensor k, Tensor v, Tensor y, AttnShape g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var P = NN.TensorArena.Scratch<T>(checked((int)(g.BH * g.ST)));
        T scale = T.One / T.Sqrt(T.CreateTruncating(g.HS));
        Gemm.Run<T>(false, true, g.BH, g.T, g.S, g.HS, scale, q.Data<T>(), g.HS, (long)g.T * g.HS,
            k.Data<T>(), g.HS, (long)g.S * g.HS, T.Zero, P, g.S, g.ST);
        int rows = g.BH * g.T;
        CpuThreads.For(rows, Math.Max(1, 16384 / Math.Max(g.S, 1)), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) MaskedSoftmaxRow(P.AsSpan(r * g.S, g.S), g, r);
        });
        Gemm.Run<T>(false, false, g.BH, g.T, g.HV, g.S, T.One, P, g.S, g.ST,
            v.Data<T>(), g.HV, (long)g.S * g.HV, T.Zero, y.Data<T>(), g.HV, (long)g.T * g.HV);
        return P;
    }

    /// <summary>In place: masked keys → probability 0; the rest softmax-normalised; all masked → zeros.</summary>
    static void MaskedSoftmaxRow<T>(Span<T> row, AttnShape g, int r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = r % g.T, b = r / g.T / g.NH;
        int limit = g.Causal ? Math.Min(i + 1, g.S) : g.S;   // keys [limit, S) are in the future
        row[limit..].Clear();
        var live = row[..limit];
        if (g.Mask is not null)
        {
            var m = g.Mask.AsSpan(b * g.S, limit);
            for (int j = 0; j < m.Length; j++) if (m[j] != 0) live[j] = T.NegativeInfinity;
        }
        if (live.Length == 0) return;
        T max = TensorPrimitives.Max<T>(live);
        if (T.IsNegativeInfinity(max)) { live.Clear(); return; }
        TensorPrimitives.Subtract(live, max, live);
        TensorPrimitives.Exp<T>(live, live);   // exp(-inf) = 0 for the masked keys
        T sum = TensorPrimitives.Sum<T>(live);
        TensorPrimitives.Multiply(live, T.One / sum, live);
    }

    static void AttnBackward<T>(Tensor q, Tensor k, Tensor v, Tensor dy, T[] P, AttnShape g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dout = dy.Data<T>();
        long sQ = (long)g.T * g.HS, sK = (long)g.S * g.HS, sV = (long)g.S * g.HV, sO = (long)g.T * g.HV;
        if (v.RequiresGrad)
            Gemm.Run<T>(true, false, g.BH, g.S, g.HV, g.T, T.One, P, g.S, g.ST, dout, g.HV, sO, T.One, v.GradData<T>(), g.HV, sV);
        if (!q.RequiresGrad && !k.RequiresGrad) return;
        var dS = NN.TensorArena.Scratch<T>(P.Length);
        Gemm.Run<T>(false, true, g.BH, g.T, g.S, g.HV, T.One, dout, g.HV, sO, v.Data<T>(), g.HV, sV, T.Zero, dS, g.S, g.ST);
        int rows = g.BH * g.T;
        CpuThreads.For(rows, Math.Max(1, 16384 / Math.Max(g.S, 1)), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var p = P.AsSpan(r * g.S, g.S);
                var d = dS.AsSpan(r * g.S, g.S);
                T dot = TensorPrimitives.Dot<T>(p, d);
                TensorPrimitives.Subtract(d, dot, d);
                TensorPrimitives.Multiply(d, p, d);   // masked keys have p = 0, so they get nothing
            }
        });
        T scale = T.One / T.Sqrt(T.CreateTruncating(g.HS));
        if (q.RequiresGrad)
            Gemm.Run<T>(false, false, g.BH, g.T, g.HS, g.S, scale, dS, g.S, g.ST, k.Data<T>(), g.HS, sK, T.One, q.GradData<T>(), g.HS, sQ);
        if (k.RequiresGrad)
            Gemm.Run<T>(true, false, g.BH, g.S, g.HS, g.T, scale, dS, g.S, g.ST, q.Data<T>(), g.HS, sQ, T.One, k.GradData<T>(), g.HS, sK);
    }

    static GradCase AttnCase(string name, int B, int NH, int T, int S, int HS, int HV, int[]? mask, bool causal)
        => GradCase.Sized(name, [[B, NH, T, HS], [B, NH, S, HS], [B, NH, S, HV]], (rng, dt, z) =>
        {
            var q = Tensor.Uniform(rng, z.Shape(B, NH, T, HS), -1, 1, dt).RequireGrad();
            var k = Tensor.Uniform(rng, z.Shape(B, NH, S, HS), -1, 1, dt).RequireGrad();
            var v = Tensor.Uniform(rng, z.Shape(B, NH, S, HV), -1, 1, dt).RequireGrad();
            var m = mask is null ? null : z.Ints(rng, mask, 2, B, S);
            return new GradProblem([q, k, v], () => ScaledDotProductAttention(q, k, v, m, causal));
        }, $"q({B},{NH},{T},{HS}) k({B},{NH},{S},{HS}) v({B},{NH},{S},{HV}){(mask is null ? "" : $" mask({B},{S})")}{(causal ? " causal" : "")}");

    [GradCases(Op = "scaled_dot_product_attention", Cpu = nameof(ScaledDotProductAttention), Tolerance = ToleranceClass.Accumulating,
        Kernels = "AttentionKernels ScalarKernels")]
    static IEnumerable<GradCase> AttentionCases()
    {
        yield return AttnCase("sdpa", 2, 2, 3, 3, 4, 4, null, false);
        // Batch 1 is fully padded: its rows output zeros and must pass zero gradient.
        yield return AttnCase("sdpa_padmask", 2, 2, 3, 5, 3, 3, [0, 0, 1, 0, 1, 1, 1, 1, 1, 1], false);
        yield return AttnCase("sdpa_causal", 1, 2, 4, 4, 3, 2, null, true);
        yield return AttnCase("sdpa_causal_padmask_cross", 2, 1, 3, 5, 3, 3, [1, 0, 0, 0, 1, 0, 0, 1, 1, 0], true);
        // Causal with more keys than queries: keys T..S-1 are never attended (zero dk, dv).
        yield return AttnCase("sdpa_causal_long_keys", 1, 2, 3, 6, 2, 5, null, true);
        // Self-attention shapes (S == T, HV == HS), the transformer's case, with both masks.
        yield return AttnCase("sdpa_padmask_self", 2, 2, 4, 4, 3, 3, [0, 0, 1, 0, 1, 1, 1, 1], false);
        yield return AttnCase("sdpa_causal_padmask_self", 2, 1, 5, 5, 4, 4, [1, 0, 0, 1, 0, 0, 0, 0, 1, 1], true);
    }
}
