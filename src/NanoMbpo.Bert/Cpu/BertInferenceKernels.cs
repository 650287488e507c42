// BertInference's row and attention kernels: bias add, bias + GELU (erf, the engine's rational erf),
// bias + residual + LayerNorm, and attention per (batch, head) reading Q/K/V from the packed QKV rows.
// Rows and heads are shared out by WorkShare with delegates made once (no allocation per call); a
// sequence's heads go to one thread together when there are enough sequences (its Q/K/V rows stay in cache).
// With AVX-512 and HS a multiple of 16 the query-major Vector512 path runs (BertAttention512.cs,
// UseWideAttention). Else, per head: Kᵀ is copied into a (HS, Tp) scratch; 4 query rows at a time, so each
// loaded Kᵀ (or V) vector serves 4 FMAs; masked keys get -inf before a max-subtracted softmax; o_i = Σ_j p_ij·v_j;
// Vector256 paths need HS (and rows) in multiples of 8; other sizes take the scalar loops (the tiny
// fixture, HS = 4, exercises them). Both vector paths are padding-invariant (PaddingInvarianceTests,
// NarrowAttentionTests). Tests: tests/NanoMbpo.Bert.Tests/BertParityTests.cs.
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bert.Cpu;

public sealed unsafe partial class BertInference
{
    enum RowOp { Bias, BiasGelu, ResidualLayerNorm }
    readonly float eps;
    readonly Action<int, int> rowsBody, attentionBody;
    // Arguments of the current parallel call (set before WorkShare.For, read by the bodies).
    RowOp op;
    float* rowX, rowR, rowBias, rowGamma, rowBeta;
    int rowN, attB, attT;
    [ThreadStatic] static float[]? scratch;

    void AddBiasRows(float* a, float* bias, int rows, int n) => Rows(RowOp.Bias, a, null, bias, null, null, rows, n);
    void BiasGelu(float* a, float* bias, int rows, int n) => Rows(RowOp.BiasGelu, a, null, bias, null, null, rows, n);
    /// <summary>x = LayerNorm(x + r + bias) row by row (r and bias may be null).</summary>
    void ResidualLayerNorm(float* a, float* r, float* bias, float* gamma, float* beta, int rows) => Rows(RowOp.ResidualLayerNorm, a, r, bias, gamma, beta, rows, C);

    void Rows(RowOp o, float* a, float* r, float* bias, float* gamma, float* beta, int rows, int n)
    {
        op = o; rowX = a; rowR = r; rowBias = bias; rowGamma = gamma; rowBeta = beta; rowN = n;
        WorkShare.Current.For(rows, Math.Max(1, 16384 / n), rowsBody);
    }

    void RowsBody(int start, int end)
    {
        int n = rowN;
        for (int i = start; i < end; i++)
        {
            var row = new Span<float>(rowX + (long)i * n, n);
            var bias = rowBias == null ? default : new ReadOnlySpan<float>(rowBias, n);
            switch (op)
            {
                case RowOp.Bias: TensorPrimitives.Add(row, bias, row); break;
                case RowOp.BiasGelu: Gelu(rowX + (long)i * n, rowBias, n); break;
                default:
                    if (rowR != null) TensorPrimitives.Add(row, new ReadOnlySpan<float>(rowR + (long)i * n, n), row);
                    if (rowBias != null) TensorPrimitives.Add(row, bias, row);
                    LayerNormRow(row, rowGamma, rowBeta);
                    break;
            }
        }
    }

    /// <summary>row = LayerNorm(row)·gamma + beta in place.</summary>
    void LayerNormRow(Span<float> row, float* gamma, float* beta)
    {
        int n = row.Length;
        float mean = TensorPrimitives.Sum<float>(row) / n;
        TensorPrimitives.Subtract(row, mean, row);
        float rstd = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares<float>(row) / n + eps);
        TensorPrimitives.Multiply(row, rstd, row);
        TensorPrimitives.Multiply(row, new ReadOnlySpan<float>(gamma, n), row);
        TensorPrimitives.Add(row, new ReadOnlySpan<float>(beta, n), row);
    }

    // Arguments of the embeddings' parallel call.
    float* embWord, embPos, embType, embGamma, embBeta;
    int* embIds, embTypes;

    /// <summary>Rows [start, end): word + token type + position embedding, then the embeddings' LayerNorm, while the row is in cache.</summary>
    void EmbeddingsBody(int start, int end)
    {
        int T = attT;
        for (int i = start; i < end; i++)
        {
            var dst = new Span<float>(x + (long)i * C, C);
            TensorPrimitives.Add(new ReadOnlySpan<float>(embWord + (long)embIds[i] * C, C), new ReadOnlySpan<float>(embType + (long)embTypes[i] * C, C), dst);
            TensorPrimitives.Add(dst, new ReadOnlySpan<float>(embPos + (long)(i % T) * C, C), dst);
            LayerNormRow(dst, embGamma, embBeta);
        }
    }

    /// <summary>y = gelu(y + bias) = 0.5·v·(1 + erf(v/√2)), v = y + bias, in place.</summary>
    static void Gelu(float* y, float* bias, int n)
    {
        const float invSqrt2 = 0.70710678118654752f;
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 16 <= n; j += 16)
            {
                var v = Vector512.Load(y + j) + Vector512.Load(bias + j);
                var e = Erf.Vector(v * Vector512.Create(invSqrt2));
                (Vector512.Create(0.5f) * v * (Vector512<float>.One + e)).Store(y + j);
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= n; j += 8)
            {
                var v = Vector256.Load(y + j) + Vector256.Load(bias + j);
                var e = Erf.Vector(v * Vector256.Create(invSqrt2));
                (Vector256.Create(0.5f) * v * (Vector256<float>.One + e)).Store(y + j);
            }
        for (; j < n; j++)
        {
            float v = y[j] + bias[j];
            y[j] = 0.5f * v * (1f + Erf.Single(v * invSqrt2));
        }
    }

    /// <summary>Attention on Vector512 (16 keys / 16 head dims per vector) where HS is a multiple of 16 (default). False
    /// takes the Vector256 path, as CPUs without AVX-512 do; bert-interleaved runs both in one process: the wide one
    /// was 2-13 % faster on every shape (bench/RESULTS.md, session 7).</summary>
    public static bool UseWideAttention { get; set; } = true;

    /// <summary>Runs the attention on caller-owned buffers (qkv (B·T,3C), key mask (B·T), ctx (B·T,C)): lets a test
    /// match a kernel against a reference on chosen inputs.</summary>
    internal void AttentionOn(float* qkvIn, int* maskIn, float* ctxOut, int B, int T)
    {
        float* q = qkv, c = ctx; int* m = keyMask;
        qkv = qkvIn; keyMask = maskIn; ctx = ctxOut;
        try { Attention(B, T); }
        finally { qkv = q; keyMask = m; ctx = c; }
    }

    void Attention(int B, int T)
    {
        (attB, attT) = (B, T);
        WorkShare.Current.For(B * NH, B >= 4 * CpuThreads.Count ? NH : 1, attentionBody);
    }

    void AttentionBody(int start, int end)
    {
        if (UseWideAttention && Vector512.IsHardwareAccelerated && HS % 16 == 0) { AttentionBody512(start, end); return; }
        // Tp a multiple of 16, padded keys −inf: Exp and the sum see the same full vectors at the same positions
        // whatever the batch's padded length, so an utterance's output does not depend on its batch.
        int T = attT, Tp = (T + 15) & ~15, ld = 3 * C;
        int need = HS * Tp + 4 * Tp;
        var buf = scratch is { } sc && sc.Length >= need ? sc : scratch = new float[Math.Max(need, 4096)];
        float scale = 1f / MathF.Sqrt(HS);
        bool vec = Vector256.IsHardwareAccelerated && HS % 8 == 0;
        fixed (float* kt = buf)
        {
            float* s = kt + HS * Tp;   // (4, Tp): scores of 4 query rows
            for (int bh = start; bh < end; bh++)
            {
                int b = bh / NH, h = bh % NH;
                float* q0 = qkv + (long)b * T * ld + h * 3 * HS, k0 = q0 + HS, v0 = q0 + 2 * HS;   // head-interleaved rows
                int* mask = keyMask + b * T;
                for (int j = 0; j < T; j++)
                    for (int d = 0; d < HS; d++) kt[d * Tp + j] = k0[(long)j * ld + d];
                for (int d = 0; d < HS; d++)
                    for (int j = T; j < Tp; j++) kt[d * Tp + j] = 0f;
                for (int i = 0; i < T; i += 4)
                {
                    int rows = Math.Min(4, T - i);
                    if (vec) Scores4(q0 + (long)i * ld, ld, rows, kt, s, Tp);
                    else for (int r = 0; r < rows; r++) Scores(q0 + (long)(i + r) * ld, kt, s + r * Tp, T, Tp);
                    for (int r = 0; r < rows; r++) Softmax(s + r * Tp, mask, T, Tp, scale);
                    float* o = ctx + ((long)b * T + i) * C + h * HS;
                    if (vec) Context4(s, Tp, rows, v0, ld, o, C, T);
                    else for (int r = 0; r < rows; r++) Context(s + r * Tp, v0, o + (long)r * C, T, ld);
                }
            }
        }
    }

    /// <summary>Masked keys → 0; the rest softmax(scale·s). A row with every key masked becomes zeros. Runs over all Tp
    /// entries (padding −inf → 0) and sums them in fixed 8-lane groups, so the result ignores how far the row is padded.</summary>
    static void Softmax(float* s, int* mask, int T, int Tp, float scale)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < Tp; j++)
        {
            s[j] = j < T && mask[j] != 0 ? s[j] * scale : float.NegativeInfinity;
            if (s[j] > max) max = s[j];
        }
        var row = new Span<float>(s, Tp);
        if (float.IsNegativeInfinity(max)) { row.Clear(); return; }   // every key masked: output zeros
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp(row, row);
        var acc = Vector256<float>.Zero;
        for (int j = 0; j < Tp; j += 8) acc += Vector256.Load(s + j);
        TensorPrimitives.Multiply(row, 1f / Vector256.Sum(acc), row);
    }

    /// <summary>Scores of up to 4 query rows (stride ld) against kᵀ (HS, Tp): each kᵀ vector loaded once for 4 FMAs.</summary>
    void Scores4(float* q, int ld, int rows, float* kt, float* s, int Tp)
    {
        float* q1 = q + (long)ld * Math.Min(1, rows - 1), q2 = q + (long)ld * Math.Min(2, rows - 1), q3 = q + (long)ld * Math.Min(3, rows - 1);
        for (int j = 0; j < Tp; j += 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int d = 0; d < HS; d++)
            {
                var k = Vector256.Load(kt + d * Tp + j);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(q[d]), k, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Create(q1[d]), k, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(q2[d]), k, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Create(q3[d]), k, a3);
            }
            a0.Store(s + j); a1.Store(s + Tp + j); a2.Store(s + 2 * Tp + j); a3.Store(s + 3 * Tp + j);
        }
    }

    /// <summary>Output rows o_r = Σ_j p_rj · v_j for up to 4 rows (p rows stride Tp, o rows stride ldo).</summary>
    void Context4(float* p, int Tp, int rows, float* v0, int ld, float* o, int ldo, int T)
    {
        float* p1 = p + Tp * Math.Min(1, rows - 1), p2 = p + Tp * Math.Min(2, rows - 1), p3 = p + Tp * Math.Min(3, rows - 1);
        for (int d = 0; d < HS; d += 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < T; j++)
            {
                var v = Vector256.Load(v0 + (long)j * ld + d);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), v, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Create(p1[j]), v, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(p2[j]), v, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Create(p3[j]), v, a3);
            }
            a0.Store(o + d);
            if (rows > 1) a1.Store(o + ldo + d);
            if (rows > 2) a2.Store(o + 2 * ldo + d);
            if (rows > 3) a3.Store(o + 3 * ldo + d);
        }
    }

    /// <summary>s[j] = q · k_j for j &lt; T, with kᵀ stored (HS, Tp) (scalar: HS not a multiple of 8).</summary>
    void Scores(float* q, float* kt, float* s, int T, int Tp)
    {
        for (int j = 0; j < T; j++)
        {
            float acc = 0;
            for (int d = 0; d < HS; d++) acc += q[d] * kt[d * Tp + j];
            s[j] = acc;
        }
    }

    /// <summary>o = Σ_j p_j · v_j (HS values), v rows with stride ld (scalar).</summary>
    void Context(float* p, float* v0, float* o, int T, int ld)
    {
        for (int d = 0; d < HS; d++)
        {
            float acc = 0;
            for (int j = 0; j < T; j++) acc += p[j] * v0[(long)j * ld + d];
            o[d] = acc;
        }
    }
}
