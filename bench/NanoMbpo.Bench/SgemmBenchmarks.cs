// SGEMM benchmarks: NanoMbpo.Cpu.Sgemm (1 and 2 threads) against a naive C# triple loop (the
// baseline) on shapes where the naive loop finishes in reasonable time, and Sgemm alone on the large
// shapes. Run (short job): dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*Sgemm*' --job short
// OpenBLAS / PyTorch anchors for the same shapes: python3 bench/anchors.py; results in bench/RESULTS.md.
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bench;

/// <summary>One GEMM shape: C(M,N) = op(A)(M,K)·op(B)(K,N) with transpose flags.</summary>
public sealed record GemmShape(string Name, int M, int N, int K, bool TA, bool TB)
{
    public override string ToString() => $"{Name} {M}x{N}x{K} {(TA ? 'T' : 'N')}{(TB ? 'T' : 'N')}";
}

public abstract unsafe class SgemmBenchBase
{
    protected float* A, B, C;
    protected int Lda, Ldb;

    public abstract GemmShape Shape { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var s = Shape;
        A = Alloc((long)s.M * s.K); B = Alloc((long)s.K * s.N); C = Alloc((long)s.M * s.N);
        Lda = s.TA ? s.M : s.K; Ldb = s.TB ? s.K : s.N;
    }

    [GlobalCleanup]
    public void Cleanup() { NativeMemory.AlignedFree(A); NativeMemory.AlignedFree(B); NativeMemory.AlignedFree(C); }

    protected void RunSgemm(int threads)
    {
        CpuThreads.Count = threads;
        var s = Shape;
        Sgemm.Run(s.TA, s.TB, s.M, s.N, s.K, 1f, A, Lda, B, Ldb, 0f, C, s.N);
    }

    static float* Alloc(long n)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(n * sizeof(float)), 64);
        var rng = new Random(1);
        for (long i = 0; i < n; i++) p[i] = (float)(rng.NextDouble() - 0.5);
        return p;
    }
}

/// <summary>Shapes small enough for the naive baseline: cubes 256/512, BERT QKV, every MLP variant.</summary>
public unsafe class SgemmVsNaive : SgemmBenchBase
{
    public static IEnumerable<GemmShape> Shapes()
    {
        yield return new("cube", 256, 256, 256, false, false);
        yield return new("cube", 512, 512, 512, false, false);
        yield return new("bert_qkvo", 256, 768, 768, false, false);
        foreach (var (name, m, n, k) in new[] { ("mlp", 256, 256, 64), ("mlp", 256, 256, 256), ("mlp", 256, 16, 256), ("mlp", 256, 64, 256), ("mlp", 256, 256, 16), ("mlp", 16, 256, 256), ("mlp", 64, 256, 256) })
            foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
                yield return new(name, m, n, k, ta, tb);
    }

    [ParamsSource(nameof(Shapes))]
    public override GemmShape Shape { get; set; } = null!;

    [Benchmark(Baseline = true, Description = "naive C# (baseline)")]
    public void Naive()
    {
        var s = Shape;
        int lda = Lda, ldb = Ldb;
        for (int i = 0; i < s.M; i++)
        {
            float* c = C + (long)i * s.N;
            for (int j = 0; j < s.N; j++) c[j] = 0f;
            for (int k = 0; k < s.K; k++)
            {
                float a = s.TA ? A[(long)k * lda + i] : A[(long)i * lda + k];
                if (s.TB) for (int j = 0; j < s.N; j++) c[j] += a * B[(long)j * ldb + k];
                else { float* b = B + (long)k * ldb; for (int j = 0; j < s.N; j++) c[j] += a * b[j]; }
            }
        }
    }

    [Benchmark(Description = "Sgemm 1 thread")]
    public void Sgemm1() => RunSgemm(1);

    [Benchmark(Description = "Sgemm 2 threads")]
    public void Sgemm2() => RunSgemm(2);
}

/// <summary>Large shapes (no naive baseline: it would take seconds to minutes per call).</summary>
public class SgemmLarge : SgemmBenchBase
{
    public static IEnumerable<GemmShape> Shapes()
    {
        yield return new("cube", 1024, 1024, 1024, false, false);
        yield return new("cube", 2048, 2048, 2048, false, false);
        yield return new("bert_ffn1", 256, 3072, 768, false, false);
        yield return new("bert_ffn2", 256, 768, 3072, false, false);
    }

    [ParamsSource(nameof(Shapes))]
    public override GemmShape Shape { get; set; } = null!;

    [Benchmark(Description = "Sgemm 1 thread")]
    public void Sgemm1() => RunSgemm(1);

    [Benchmark(Description = "Sgemm 2 threads")]
    public void Sgemm2() => RunSgemm(2);
}
