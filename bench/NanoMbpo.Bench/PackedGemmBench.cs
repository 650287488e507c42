// The BERT inference GEMM (src/NanoMbpo.Bert/Cpu/PackedGemm.cs: prepacked 8×32 Vector512 micro-kernel, or 6×16
// Vector256 with DOTNET_EnableAVX512=0 / on AVX2 CPUs) on MiniLM's four
// Linear shapes beside the engine's SGEMM (which packs per call) in the same process, interleaved, best of
// rounds, in GFLOP/s: how far the kernel is from the FMA peak, before the end-to-end bert-interleaved run.
// `dotnet run -c Release --project bench/NanoMbpo.Bench -- bert-gemm [ROUNDS] [THREADS]`
using System.Diagnostics;
using NanoMbpo.Bert.Cpu;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bench;

public static unsafe class PackedGemmBench
{
    public static void Run(int rounds, int threads)
    {
        Console.WriteLine($"PackedGemm ({PackedGemm.PanelWidth}-column panels), {threads} thread(s), best of {rounds} rounds, GFLOP/s (M = batch·seq rows)");
        Console.WriteLine("| M | N | K | PackedGemm | PackedGemm, ~4 units per thread | Sgemm |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        using var scope = Compute.With(threads: threads);
        foreach (int M in new[] { 16, 256, 1024 })
            foreach (var (N, K) in new[] { (1152, 384), (384, 384), (1536, 384), (384, 1536) })
            {
                var r = new Random(M + N + K);
                var a = new float[M * K]; var w = new float[N * K]; var bias = new float[N]; var c = new float[M * N];
                for (int i = 0; i < a.Length; i++) a[i] = (float)r.NextDouble() - 0.5f;
                for (int i = 0; i < w.Length; i++) w[i] = (float)r.NextDouble() - 0.5f;
                // NANOMBPO_GEMM_COPIES=n: rotate over n packed copies of the weight, as a forward streams each
                // layer's weights once (6 MiniLM layers hold 42 MB): the cost of weights that are not in cache.
                int copies = int.TryParse(Environment.GetEnvironmentVariable("NANOMBPO_GEMM_COPIES"), out int cp) && cp > 0 ? cp : 1;
                var packs = Enumerable.Range(0, copies).Select(_ => new PackedWeight(N, K)).ToArray();
                int next = 0;
                double bestP = 0, bestS = 0, bestB = 0, flop = 2.0 * M * N * K;
                fixed (float* pa = a) fixed (float* pw = w) fixed (float* pb = bias) fixed (float* pc = c)
                {
                    foreach (var pk in packs) pk.Pack(pw, pb);
                    float* A = pa, C = pc;
                    for (int round = 0; round < rounds; round++)
                    {
                        bestP = Math.Max(bestP, Rate(flop, () => PackedGemm.Run(M, A, packs[next = (next + 1) % copies], C, N)));
                        PackedGemm.BalancedUnits = false;
                        bestB = Math.Max(bestB, Rate(flop, () => PackedGemm.Run(M, A, packs[next = (next + 1) % copies], C, N)));
                        PackedGemm.BalancedUnits = true;
                        bestS = Math.Max(bestS, Rate(flop, () => Sgemm.Run(false, true, M, N, K, 1f, a, K, w, K, 0f, c, N)));
                    }
                }
                foreach (var pk in packs) pk.Dispose();
                Console.WriteLine($"| {M} | {N} | {K} | {bestP:F1} | {bestB:F1} | {bestS:F1} |");
            }
    }

    /// <summary>GFLOP/s of ~0.3 s of back-to-back calls (after one warm-up call).</summary>
    static double Rate(double flop, Action call)
    {
        call();
        var sw = Stopwatch.StartNew();
        long n = 0;
        while (sw.Elapsed.TotalSeconds < 0.3) { call(); n++; }
        return flop * n / sw.Elapsed.TotalSeconds / 1e9;
    }
}
