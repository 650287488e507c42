// The query-major AVX-512 attention (src/NanoMbpo.Bert/Cpu/BertAttention512.cs) against the row-major 4×16
// kernel it replaced (kept here, verbatim apart from being static): bitwise equal outputs on random Q/K/V for
// head sizes 16, 32 and 64, lengths 1 to 130 (one past the 8-key and 16-query blocks and one of several 16-key
// groups), padded keys and a sequence whose keys are all masked (zeros). Bitwise, because every cached BERT
// vector of the agent was written by the old kernel. Also at 2 threads (the units are shared out).
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using NanoMbpo.Bert.Cpu;
using NanoMbpo.NN;

namespace NanoMbpo.Bert.Tests;

public unsafe class AttentionKernelTests
{
    [Avx512Theory]
    [InlineData(384, 12, 1)]
    [InlineData(384, 12, 2)]
    [InlineData(64, 4, 1)]
    [InlineData(256, 4, 2)]
    public void QueryMajorMatchesRowMajorBitwise(int C, int NH, int threads)
    {
        var cfg = new BertConfig { HiddenSize = C, NumAttentionHeads = NH, NumHiddenLayers = 1, IntermediateSize = 2 * C, VocabSize = 50, MaxPositionEmbeddings = 256 };
        var model = new BertModel(new ParameterStore(DType.F32, 1 << 22), cfg, false, new Rng(0));
        using var inf = new BertInference(model);
        using var scope = Compute.With(threads: threads);
        var rng = new Random(C + NH + threads);
        foreach (int T in new[] { 1, 5, 8, 9, 16, 17, 31, 32, 40, 130 })
        {
            const int B = 5;
            var qkv = new float[B * T * 3 * C];
            for (int i = 0; i < qkv.Length; i++) qkv[i] = (float)(rng.NextDouble() * 4 - 2);
            var mask = new int[B * T];
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++) mask[b * T + t] = b == 3 ? 0 : t < T - b ? 1 : 0;   // b: b padded keys; 3: all masked
            var want = new float[B * T * C]; var got = new float[B * T * C];
            fixed (float* q = qkv) fixed (int* m = mask) fixed (float* w = want) fixed (float* g = got)
            {
                RowMajor(q, m, w, B, T, C, NH);
                inf.AttentionOn(q, m, g, B, T);
            }
            for (int i = 0; i < want.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(want[i]) == BitConverter.SingleToInt32Bits(got[i]),
                    $"C {C}, NH {NH}, T {T}, threads {threads}: row {i / C} col {i % C}: row-major {want[i]:R}, query-major {got[i]:R}");
            Assert.Contains(got, v => v != 0);
            for (int i = 3 * T * C; i < 4 * T * C; i++) Assert.Equal(0f, got[i]);   // the all-masked sequence
        }
    }

    // ---- the row-major kernel of session 7 (BertInferenceKernels.cs), the reference ----
    static void RowMajor(float* qkv, int* keyMask, float* ctx, int B, int T, int C, int NH)
    {
        int HS = C / NH, Tp = (T + 15) & ~15, ld = 3 * C, start = 0, end = B * NH;
        var buf = new float[HS * Tp + 4 * Tp + Tp];
        float scale = 1f / MathF.Sqrt(HS);
        fixed (float* kt = buf)
        {
            float* s = kt + HS * Tp, maskRow = s + 4 * Tp;
            int maskedFor = -1;
            for (int bh = start; bh < end; bh++)
            {
                int b = bh / NH, h = bh % NH;
                float* q0 = qkv + (long)b * T * ld + h * 3 * HS, k0 = q0 + HS, v0 = q0 + 2 * HS;   // head-interleaved, as BertInference's
                if (b != maskedFor)
                {
                    int* mask = keyMask + b * T;
                    for (int j = 0; j < Tp; j++) maskRow[j] = j < T && mask[j] != 0 ? 0f : float.NegativeInfinity;
                    maskedFor = b;
                }
                for (int j = 0; j < T; j++)
                    for (int d = 0; d < HS; d++) kt[d * Tp + j] = k0[(long)j * ld + d];
                for (int d = 0; d < HS; d++)
                    for (int j = T; j < Tp; j++) kt[d * Tp + j] = 0f;
                for (int i = 0; i < T; i += 4)
                {
                    int rows = Math.Min(4, T - i);
                    Scores4x16(q0 + (long)i * ld, ld, rows, kt, s, Tp, scale, maskRow, HS);
                    Softmax4x16(s, Tp, rows);
                    Context4x16(s, Tp, rows, v0, ld, ctx + ((long)b * T + i) * C + h * HS, C, T, HS);
                }
            }
        }
    }

    static void Scores4x16(float* q, int ld, int rows, float* kt, float* s, int Tp, float scale, float* maskRow, int HS)
    {
        float* q1 = q + (long)ld * Math.Min(1, rows - 1), q2 = q + (long)ld * Math.Min(2, rows - 1), q3 = q + (long)ld * Math.Min(3, rows - 1);
        var vs = Vector512.Create(scale);
        for (int j = 0; j < Tp; j += 16)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int d = 0; d < HS; d++)
            {
                var k = Vector512.Load(kt + d * Tp + j);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q[d]), k, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(q1[d]), k, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(q2[d]), k, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(q3[d]), k, a3);
            }
            var m = Vector512.Load(maskRow + j);
            (a0 * vs + m).Store(s + j); (a1 * vs + m).Store(s + Tp + j); (a2 * vs + m).Store(s + 2 * Tp + j); (a3 * vs + m).Store(s + 3 * Tp + j);
        }
    }

    static void Softmax4x16(float* s, int Tp, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = s + r * Tp;
            var mx = Vector512.Create(float.NegativeInfinity);
            for (int j = 0; j < Tp; j += 16) mx = Vector512.Max(mx, Vector512.Load(row + j));
            float max = float.NegativeInfinity;
            for (int l = 0; l < 16; l++) max = MathF.Max(max, mx[l]);
            if (float.IsNegativeInfinity(max)) continue;   // every key masked: the row stays −inf, so Exp makes it zeros
            var vm = Vector512.Create(max);
            for (int j = 0; j < Tp; j += 16) (Vector512.Load(row + j) - vm).Store(row + j);
        }
        var block = new Span<float>(s, rows * Tp);
        TensorPrimitives.Exp(block, block);
        for (int r = 0; r < rows; r++)
        {
            float* row = s + r * Tp;
            var acc = Vector512<float>.Zero;
            for (int j = 0; j < Tp; j += 16) acc += Vector512.Load(row + j);
            float sum = Vector512.Sum(acc);
            if (sum == 0) continue;   // the all-masked row
            var inv = Vector512.Create(1f / sum);
            for (int j = 0; j < Tp; j += 16) (Vector512.Load(row + j) * inv).Store(row + j);
        }
    }

    static void Context4x16(float* p, int Tp, int rows, float* v0, int ld, float* o, int ldo, int T, int HS)
    {
        float* p1 = p + Tp * Math.Min(1, rows - 1), p2 = p + Tp * Math.Min(2, rows - 1), p3 = p + Tp * Math.Min(3, rows - 1);
        for (int d = 0; d < HS; d += 16)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < T; j++)
            {
                var v = Vector512.Load(v0 + (long)j * ld + d);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), v, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p1[j]), v, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p2[j]), v, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p3[j]), v, a3);
            }
            a0.Store(o + d);
            if (rows > 1) a1.Store(o + ldo + d);
            if (rows > 2) a2.Store(o + 2 * ldo + d);
            if (rows > 3) a3.Store(o + 3 * ldo + d);
        }
    }

}
