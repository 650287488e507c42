// BertInference's row-owned layer (default where the batch splits evenly over the threads): one parallel call per
// layer, one unit per thread, each a block of whole sequences that runs the whole layer on its own rows (QKV GEMM,
// attention, output GEMM + residual, LayerNorm, FFN-in + GELU, FFN-out + residual, LayerNorm). Every activation a
// thread reads it wrote itself and only the weights are shared, where the phase path (each GEMM split by output
// columns, attention by sequences) had each core read half of every activation out of the other core's cache, with
// six barriers per layer. bert-interleaved, same process, 2 threads, Zen 5, 8 runs against the phase path: 8×32
// +3.6 %, 64×16 +5.9 % on average, slower in one run (bench/RESULTS.md, session 10). Same kernels in the same
// order per row, so the output is bitwise the phase path's (RowLayerTests). Batches that do not split evenly, B < threads (1×16) and layers with more than 16 MB of weights
// (BERT-base: each thread would stream all 28 MB) keep the phase path, as do CPUs without AVX-512 (slower there).
namespace NanoMbpo.Bert.Cpu;

public sealed unsafe partial class BertInference
{
    /// <summary>Run a layer as one row-owned unit per thread where B splits evenly (default); false: the phase path.</summary>
    public static bool RowLayer { get; set; } = true;
    /// <summary>Only for layers whose packed weights fit in this many bytes (MiniLM: 7 MB; BERT-base: 28 MB). Every thread
    /// reads all of a layer's weights, so they must stay in the shared L3 between the threads' reads: at BERT-base
    /// 8×32 the row layer was 2-4 % slower than the phase path, where each weight panel is read by one thread.</summary>
    public static long RowLayerMaxWeightBytes { get; set; } = 16L << 20;
    int rowLayer, rowLayerUnits;
    /// <summary>Layers run row-owned so far in this process (tests check which path ran).</summary>
    internal static long RowLayerRuns;
    float* ln1Gamma, ln1Beta, ln2Gamma, ln2Beta;
    Action<int, int>? rowLayerBody;

    bool TryRowLayer(float* w0, int l, int B, int T)
    {
        int threads = NanoMbpo.Cpu.CpuThreads.Count;
        if (!RowLayer || threads <= 1 || B < threads || B % threads != 0) return false;
        if (4L * (4L * C * C + 2L * C * FF) > RowLayerMaxWeightBytes) return false;
        // Only with the Vector512 kernels: with 16-column panels (AVX2) it was 3-12 % slower than the phase path in 3 runs
        // of 3 (DOTNET_EnableAVX512=0, bert-interleaved 8×32; 64×16 -3 to +3 %).
        if (pQkv is null || pQkv[l].NR != 32 || !UseWideAttention) return false;
        ln1Gamma = P(w0, l, Ln1W); ln1Beta = P(w0, l, Ln1W + 1);
        ln2Gamma = P(w0, l, Ln2W); ln2Beta = P(w0, l, Ln2W + 1);
        (attB, attT, rowLayer, rowLayerUnits) = (B, T, l, threads);
        WorkShare.Current.For(threads, 1, rowLayerBody ??= RowLayerBody);
        Interlocked.Increment(ref RowLayerRuns);
        return true;
    }

    static void Lap(double[]? ph, int phase, ref long t0)
    {
        if (ph is null) return;
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        ph[phase] += (now - t0) / (double)System.Diagnostics.Stopwatch.Frequency;
        t0 = now;
    }

    void RowLayerBody(int start, int end)
    {
        int l = rowLayer, B = attB, T = attT;
        for (int u = start; u < end; u++)
        {
            int b0 = u * B / rowLayerUnits, b1 = (u + 1) * B / rowLayerUnits;
            int r0 = b0 * T, m = (b1 - b0) * T;
            float* xr = x + (long)r0 * C, tr = tmp + (long)r0 * C, fr = ff + (long)r0 * FF;
            // Unit 0 times its phases when profiling (bench bert-profile): one thread's view of a row-owned layer.
            double[]? ph = u == 0 ? PhaseSeconds : null;
            long t0 = ph is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            PackedGemm.Panels(m, xr, pQkv![l], qkv + (long)r0 * 3 * C, 3 * C, null, 0, false, 0, pQkv[l].Panels);   // x·Wqkvᵀ + b
            Lap(ph, 1, ref t0);
            AttentionBody(b0 * NH, b1 * NH);                                                                     // its sequences' heads
            Lap(ph, 2, ref t0);
            PackedGemm.Panels(m, ctx + (long)r0 * C, pOut![l], tr, C, xr, C, false, 0, pOut[l].Panels);         // ctx·Woᵀ + b + x
            Lap(ph, 3, ref t0);
            for (int i = 0; i < m; i++) LayerNormRow(new Span<float>(tr + (long)i * C, C), ln1Gamma, ln1Beta);   // x1
            Lap(ph, 4, ref t0);
            PackedGemm.Panels(m, tr, pInter![l], fr, FF, null, 0, true, 0, pInter[l].Panels);                    // gelu(x1·W1ᵀ + b1)
            Lap(ph, 5, ref t0);
            PackedGemm.Panels(m, fr, pOutput![l], xr, C, tr, C, false, 0, pOutput[l].Panels);                   // ff·W2ᵀ + b2 + x1
            Lap(ph, 6, ref t0);
            for (int i = 0; i < m; i++) LayerNormRow(new Span<float>(xr + (long)i * C, C), ln2Gamma, ln2Beta);
            Lap(ph, 4, ref t0);
        }
    }
}
