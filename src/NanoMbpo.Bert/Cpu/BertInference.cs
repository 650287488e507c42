// BertInference: the CPU inference path of BertModel — the same arithmetic as BertModel.Forward's composed
// ops (embeddings, post-LN layers, GELU erf), fused where the profile said the time went (at BERT shapes:
// allocation per op, the head split/merge copies, attention at ~22 GFLOP/s, separate bias/GELU/residual
// passes): Q, K and V in one GEMM against a packed (3C,C) weight whose rows are head-interleaved, each
// head's QKV columns and attention one unit of work (FuseHeads); attention read straight out of the QKV
// rows and written straight into the context rows (no (B,NH,T,HS) copies, no T×T tensor kept); bias +
// GELU in one pass; bias + residual + LayerNorm in one pass. With AVX-512 and 2+ threads a layer runs as one
// row-owned unit per thread where the batch splits evenly (BertRowLayer.cs), else phase by phase (below).
// `bench bert-profile` prints where a forward's time goes (PhaseSeconds). All buffers are native, 64-byte aligned and
// reused across calls (grown to the largest B·T seen): nothing is allocated per call.
// The QKV weights are packed at construction: call Refresh() after changing the model's parameters.
// Tests: tests/NanoMbpo.Bert.Tests/BertParityTests.cs (against the composed ops, the torch fixture and ORT).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bert.Cpu;

public sealed unsafe partial class BertInference : IDisposable
{
    readonly BertModel model;
    readonly int C, FF, NH, HS, L;
    readonly float*[] wqkv, bqkv;          // per layer: (3C, C) and (3C), rows [q_h; k_h; v_h] per head h
    // With Vector512 (or AVX2 + FMA: 16-column panels): every Linear of every layer prepacked (PackedGemm.cs), bias /
    // residual / GELU in the epilogue.
    readonly PackedWeight[]? pQkv, pOut, pInter, pOutput;
    float* x, qkv, ctx, tmp, ff;           // (M,C), (M,3C), (M,C), (M,C), (M,FF)
    int* keyMask;                          // (M): 1 = real token, 0 = padding
    int capacity, rows;
    readonly Action<int, int> embeddingsBody, headBody;

    public BertInference(BertModel model)
    {
        this.model = model;
        var c = model.Config;
        (C, FF, NH, HS, L) = (c.HiddenSize, c.IntermediateSize, c.NumAttentionHeads, c.HeadSize, c.NumHiddenLayers);
        wqkv = new float*[L]; bqkv = new float*[L];
        for (int l = 0; l < L; l++)
        {
            wqkv[l] = Alloc(3L * C * C);
            bqkv[l] = Alloc(3L * C);
        }
        if (PackedGemm.Supported)
        {
            pQkv = new PackedWeight[L]; pOut = new PackedWeight[L]; pInter = new PackedWeight[L]; pOutput = new PackedWeight[L];
            for (int l = 0; l < L; l++)
            {
                pQkv[l] = new PackedWeight(3 * C, C); pOut[l] = new PackedWeight(C, C);
                pInter[l] = new PackedWeight(FF, C); pOutput[l] = new PackedWeight(C, FF);
            }
        }
        eps = (float)c.LayerNormEps;
        rowsBody = RowsBody;
        headBody = HeadBody;
        embeddingsBody = EmbeddingsBody;
        attentionBody = AttentionBody;
        Refresh();
    }

    /// <summary>Re-packs the QKV weights from the model's parameters.</summary>
    public void Refresh()
    {
        for (int l = 0; l < L; l++)
        {
            string p = $"encoder.layer.{l}.attention.self.";
            // Head-interleaved rows [q_h; k_h; v_h] for h = 0..NH-1: a head's Q, K and V are 3·HS adjacent output
            // columns, so one thread can make them and run that head's attention while they are in its cache.
            int i = 0;
            foreach (var n in new[] { "query", "key", "value" })
            {
                var w = model.Store[p + n + ".weight"].F32; var b = model.Store[p + n + ".bias"].F32;
                for (int h = 0; h < NH; h++)
                {
                    int row = (h * 3 + i) * HS;
                    w.Slice(h * HS * C, HS * C).CopyTo(new Span<float>(wqkv[l] + (long)row * C, HS * C));
                    b.Slice(h * HS, HS).CopyTo(new Span<float>(bqkv[l] + row, HS));
                }
                i++;
            }
            if (pQkv is null) continue;
            pQkv[l].Pack(wqkv[l], bqkv[l]);
            string o = $"encoder.layer.{l}.";
            fixed (float* w = model.Store[o + "attention.output.dense.weight"].F32) fixed (float* b = model.Store[o + "attention.output.dense.bias"].F32) pOut![l].Pack(w, b);
            fixed (float* w = model.Store[o + "intermediate.dense.weight"].F32) fixed (float* b = model.Store[o + "intermediate.dense.bias"].F32) pInter![l].Pack(w, b);
            fixed (float* w = model.Store[o + "output.dense.weight"].F32) fixed (float* b = model.Store[o + "output.dense.bias"].F32) pOutput![l].Pack(w, b);
        }
    }

    static float* Alloc(long n) => (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(n, 1) * 4), 64);

    void Ensure(int m)
    {
        if (m <= capacity) return;
        FreeActivations();
        capacity = Math.Max(m, capacity * 2);
        x = Alloc((long)capacity * C); qkv = Alloc(3L * capacity * C); ctx = Alloc((long)capacity * C);
        tmp = Alloc((long)capacity * C); ff = Alloc((long)capacity * FF);
        keyMask = (int*)NativeMemory.AlignedAlloc((nuint)capacity * 4, 64);
        embIds = (int*)NativeMemory.AlignedAlloc((nuint)capacity * 4, 64); embTypes = (int*)NativeMemory.AlignedAlloc((nuint)capacity * 4, 64);
    }

    /// <summary>Last hidden state (B·T, C) for ids (B,T), token types (B,T) and attention mask (B,T)
    /// (1 = token, 0 = padding). The span is valid until the next call.</summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<int> inputIds, ReadOnlySpan<int> tokenTypeIds, ReadOnlySpan<int> attentionMask, int B, int T)
    {
        int M = B * T;
        if (inputIds.Length != M || tokenTypeIds.Length != M || attentionMask.Length != M)
            throw new ArgumentException($"BertInference: ids, token types and mask must each hold B·T = {M} values.");
        if (T > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"BertInference: sequence length {T} exceeds max_position_embeddings {model.Config.MaxPositionEmbeddings}.");
        Ensure(M);
        rows = M;
        for (int i = 0; i < M; i++) keyMask[i] = attentionMask[i];
        var st = model.Store.Data<float>();
        mark = System.Diagnostics.Stopwatch.GetTimestamp();
        fixed (float* w0 = st)
        {
            Embeddings(w0, inputIds, tokenTypeIds, B, T);
            Mark(0);
            for (int l = 0; l < L; l++) Layer(w0, l, B, T);
        }
        return new ReadOnlySpan<float>(x, M * C);
    }

    /// <summary>Pointer to a parameter inside the pinned flat store.</summary>
    float* P(float* w0, string key) => w0 + Offset(key);

    long Offset(string key) => Unsafe.ByteOffset(ref model.Store.Data<float>()[0], ref model.Store[key].F32[0]) / 4;

    // A layer's parameters by index, their offsets in the flat store looked up once: a forward builds no key strings.
    const int OutW = 0, OutB = 1, Ln1W = 2, InterW = 4, InterB = 5, OutputW = 6, OutputB = 7, Ln2W = 8;   // Ln·W + 1 = its bias
    static readonly string[] LayerKeys = ["attention.output.dense.weight", "attention.output.dense.bias", "attention.output.LayerNorm.weight",
        "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias", "output.dense.weight", "output.dense.bias",
        "output.LayerNorm.weight", "output.LayerNorm.bias"];
    long[]? layerOffsets;

    float* P(float* w0, int l, int key)
    {
        if (layerOffsets is null)
        {
            var o = new long[L * LayerKeys.Length];
            for (int i = 0; i < L; i++)
                for (int k = 0; k < LayerKeys.Length; k++) o[i * LayerKeys.Length + k] = Offset($"encoder.layer.{i}.{LayerKeys[k]}");
            layerOffsets = o;
        }
        return w0 + layerOffsets[l * LayerKeys.Length + key];
    }

    void Embeddings(float* w0, ReadOnlySpan<int> ids, ReadOnlySpan<int> types, int B, int T)
    {
        var cfg = model.Config;
        for (int i = 0; i < B * T; i++)
        {
            int id = ids[i], tt = types[i];
            if ((uint)id >= (uint)cfg.VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} at {i} is outside the vocabulary [0, {cfg.VocabSize}).");
            if ((uint)tt >= (uint)cfg.TypeVocabSize) throw new ArgumentOutOfRangeException(nameof(types), $"token type {tt} at {i} is outside [0, {cfg.TypeVocabSize}).");
            embIds[i] = id; embTypes[i] = tt;
        }
        embWord = P(w0, "embeddings.word_embeddings.weight"); embPos = P(w0, "embeddings.position_embeddings.weight");
        embType = P(w0, "embeddings.token_type_embeddings.weight");
        embGamma = P(w0, "embeddings.LayerNorm.weight"); embBeta = P(w0, "embeddings.LayerNorm.bias");
        attT = T;
        WorkShare.Current.For(B * T, 32, embeddingsBody);
    }

    void Layer(float* w0, int l, int B, int T)
    {
        int M = B * T;
        if (pQkv is not null && UsePacked)
        {
            if (TryRowLayer(w0, l, B, T))                                       // BertRowLayer.cs (times its own phases)
            {
                if (PhaseSeconds is not null) mark = System.Diagnostics.Stopwatch.GetTimestamp();
                return;
            }
            if (FusedHeads && M <= FuseHeadsMaxRows)
            {
                (attB, attT, headLayer) = (B, T, l);
                WorkShare.Current.For(NH, 1, headBody); Mark(2);                // per head: its QKV columns, then its attention
            }
            else
            {
                PackedGemm.Run(M, x, pQkv[l], qkv, 3 * C); Mark(1);              // (M,3C) = x·Wqkvᵀ + b
                Attention(B, T); Mark(2);                                        // (M,C)
            }
            PackedGemm.Run(M, ctx, pOut![l], tmp, C, x, C); Mark(3);             // ctx·Woᵀ + b + x
            LayerNormInto(l, Ln1W, w0); Mark(4);
            PackedGemm.Run(M, x, pInter![l], ff, FF, gelu: true); Mark(5);       // gelu(x·W1ᵀ + b1)
            PackedGemm.Run(M, ff, pOutput![l], tmp, C, x, C); Mark(6);           // ff·W2ᵀ + b2 + x
            LayerNormInto(l, Ln2W, w0); Mark(4);
            return;
        }
        // Q, K, V: one GEMM (M,C)·(3C,C)ᵀ → (M,3C), then the bias.
        Gemm(M, 3 * C, C, x, wqkv[l], qkv);
        AddBiasRows(qkv, bqkv[l], M, 3 * C);
        Attention(B, T);
        // Output projection, then bias + residual + LayerNorm into x.
        Gemm(M, C, C, ctx, P(w0, l, OutW), tmp);
        ResidualLayerNorm(x, tmp, P(w0, l, OutB), P(w0, l, Ln1W), P(w0, l, Ln1W + 1), M);
        // FFN: (M,C)·(FF,C)ᵀ, bias + GELU, (M,FF)·(C,FF)ᵀ, bias + residual + LayerNorm.
        Gemm(M, FF, C, x, P(w0, l, InterW), ff);
        BiasGelu(ff, P(w0, l, InterB), M, FF);
        Gemm(M, C, FF, ff, P(w0, l, OutputW), tmp);
        ResidualLayerNorm(x, tmp, P(w0, l, OutputB), P(w0, l, Ln2W), P(w0, l, Ln2W + 1), M);
    }

    /// <summary>Per head as one unit of work (default where the wide attention runs and 3·HS fills whole 32-column panels):
    /// the QKV GEMM's 3·HS columns of head h, then head h's attention over every sequence, on one thread while those
    /// columns are in its cache. The split QKV GEMM + attention left half of each head's Q/K/V in the other core's cache
    /// and cost a barrier. The arithmetic is the same, so the output is bitwise the same.</summary>
    public static bool FuseHeads { get; set; } = true;
    /// <summary>Up to this many rows (B·T). Same process, 2 threads, three runs each: fused was faster at 8×32 and 1×16 in
    /// all three (+1-3 %), slower at 64×16 (1024 rows) in all three (−0.3 to −3 %), even on BERT-base 8×32.</summary>
    public static int FuseHeadsMaxRows { get; set; } = 512;
    bool FusedHeads => FuseHeads && UseWideAttention && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && HS % 16 == 0 && pQkv is { } q && q[0].NR == 32 && 3 * HS % 32 == 0;
    int headLayer;

    void HeadBody(int start, int end)
    {
        int panels = 3 * HS / pQkv![headLayer].NR;
        for (int h = start; h < end; h++)
        {
            PackedGemm.Panels(attB * attT, x, pQkv![headLayer], qkv, 3 * C, null, 0, false, h * panels, (h + 1) * panels);
            for (int b = 0; b < attB; b++) AttentionBody512(b * NH + h, b * NH + h + 1);
        }
    }

    /// <summary>x = LayerNorm(tmp) (in place in tmp, then the two buffers swap); <paramref name="norm"/> is Ln1W or Ln2W.</summary>
    void LayerNormInto(int l, int norm, float* w0)
    {
        ResidualLayerNorm(tmp, null, null, P(w0, l, norm), P(w0, l, norm + 1), rows);
        var t = x; x = tmp; tmp = t;
    }

    /// <summary>When set (7 slots), each packed-path forward adds the seconds of its phases here: embeddings, QKV GEMM,
    /// attention, output projection, LayerNorm, FFN-in GEMM + GELU, FFN-out GEMM (`bench bert-profile` prints them).</summary>
    public static double[]? PhaseSeconds { get; set; }
    long mark;

    void Mark(int phase)
    {
        if (PhaseSeconds is not { } p) return;
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        p[phase] += (now - mark) / (double)System.Diagnostics.Stopwatch.Frequency;
        mark = now;
    }

    /// <summary>Use the prepacked-weight GEMMs where available (default); false runs Sgemm and separate passes.</summary>
    public static bool UsePacked { get; set; } = true;

    /// <summary>C(M,N) = A(M,K)·W(N,K)ᵀ: the no-packing kernel for few rows, else the engine's SGEMM.</summary>
    static void Gemm(int M, int N, int K, float* a, float* w, float* c)
    {
        if (UseSmallGemm && SmallGemm.Supports(M, K)) SmallGemm.Run(M, N, K, a, w, c, N);
        else Sgemm.Run(false, true, M, N, K, 1f, a, K, w, K, 0f, c, N);
    }

    /// <summary>Lets a bench or test compare the small-M kernel against the SGEMM (default on).</summary>
    public static bool UseSmallGemm { get; set; } = true;

    public void Dispose()
    {
        FreeActivations();
        foreach (var set in new[] { pQkv, pOut, pInter, pOutput }) if (set is not null) foreach (var w in set) w.Dispose();
        for (int l = 0; l < L; l++) { NativeMemory.AlignedFree(wqkv[l]); NativeMemory.AlignedFree(bqkv[l]); wqkv[l] = bqkv[l] = null; }
        GC.SuppressFinalize(this);
    }

    void FreeActivations()
    {
        foreach (var b in new[] { x, qkv, ctx, tmp, ff }) if (b != null) NativeMemory.AlignedFree(b);
        foreach (var b in new[] { keyMask, embIds, embTypes }) if (b != null) NativeMemory.AlignedFree(b);
        x = qkv = ctx = tmp = ff = null; keyMask = embIds = embTypes = null; capacity = 0;
    }

    ~BertInference()
    {
        FreeActivations();
        for (int l = 0; l < L; l++) { if (wqkv[l] != null) NativeMemory.AlignedFree(wqkv[l]); if (bqkv[l] != null) NativeMemory.AlignedFree(bqkv[l]); }
    }
}
