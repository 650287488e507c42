// PackedGemm: C(M,N) = A(M,K)·W(N,K)ᵀ + bias (+ residual) (then GELU), with W packed once at load time
// into panels of 32 output columns (K×32, k-major, zero-padded past N) — as ONNX Runtime prepacks its
// weights — so no call packs anything: A is read in place (broadcast from its rows), the panel streams
// from cache. Micro-kernel: 8 rows × 32 columns in 16 Vector512 accumulators, bias / residual / GELU
// applied in the epilogue while the tile is in registers. Rows in blocks of 128 (A block in L2); panels
// shared out by WorkShare. Without Vector512 (AVX2 + FMA CPUs) the weights are packed into 16-column panels
// for the 6×16 Vector256 kernel of PackedGemmNarrow.cs; with neither, BertInference runs Sgemm + passes.
// Tests: tests/NanoMbpo.Bert.Tests/GemmKernelTests.cs (both panel widths, against Sgemm + bias/residual/GELU
// composed; the two widths bit for bit) and NarrowPanelTests (the whole MiniLM encoder on 16-column panels).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bert.Cpu;

/// <summary>A (N,K) weight and its (N) bias packed into panels of NR = 32 (Vector512 kernel) or 16 (Vector256
/// kernel) output columns.</summary>
internal sealed unsafe class PackedWeight : IDisposable
{
    public readonly int N, K, Panels, NR;
    public float* Data, Bias;   // (Panels, K, NR) and (Panels·NR)

    /// <param name="nr">panel width: 32 or 16; 0 picks PackedGemm.PanelWidth (the widest kernel this CPU runs).</param>
    public PackedWeight(int n, int k, int nr = 0)
    {
        NR = nr == 0 ? PackedGemm.PanelWidth : nr;
        if (NR != 32 && NR != 16) throw new ArgumentOutOfRangeException(nameof(nr), $"panel width {nr}: expected 32 or 16.");
        N = n; K = k; Panels = (n + NR - 1) / NR;
        Data = (float*)NativeMemory.AlignedAlloc((nuint)((long)Panels * K * NR * 4), 64);
        Bias = (float*)NativeMemory.AlignedAlloc((nuint)(Panels * NR * 4), 64);
    }

    /// <summary>Packs w (N,K) row-major and bias (N) (null: zeros).</summary>
    public void Pack(float* w, float* bias)
    {
        for (int p = 0; p < Panels; p++)
        {
            float* dst = Data + (long)p * K * NR;
            for (int j = 0; j < NR; j++)
            {
                int n = p * NR + j;
                if (n < N) for (int k = 0; k < K; k++) dst[k * NR + j] = w[(long)n * K + k];
                else for (int k = 0; k < K; k++) dst[k * NR + j] = 0f;
                Bias[p * NR + j] = n < N && bias != null ? bias[n] : 0f;
            }
        }
    }

    public void Dispose()
    {
        if (Data != null) NativeMemory.AlignedFree(Data);
        if (Bias != null) NativeMemory.AlignedFree(Bias);
        Data = Bias = null;
        GC.SuppressFinalize(this);
    }

    ~PackedWeight() { if (Data != null) NativeMemory.AlignedFree(Data); if (Bias != null) NativeMemory.AlignedFree(Bias); }
}

internal static unsafe partial class PackedGemm
{
    /// <summary>Whether some packed kernel runs on this CPU: Vector512, or Vector256 with FMA.</summary>
    public static bool Supported => Vector512.IsHardwareAccelerated || NarrowSupported;
    public static bool NarrowSupported => Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported;
    /// <summary>The panel width new PackedWeights get: 32 with Vector512, else 16. Tests and benches set 16 to run the
    /// Vector256 kernel on an AVX-512 CPU (it is what AVX2 CPUs run).</summary>
    public static int PanelWidth { get; set; } = Vector512.IsHardwareAccelerated ? 32 : 16;
    const int MR = 8, MC = 128;

    sealed class Job
    {
        public float* A, C, R; public int M, Ldc, Ldr; public bool Gelu; public PackedWeight W = null!;
        public readonly Action<int, int> Body;
        public Job() => Body = Run;
        void Run(int p0, int p1) => Panels(M, A, W, C, Ldc, R, Ldr, Gelu, p0, p1);
    }

    /// <summary>Panels [p0, p1) of C = A·Wᵀ + bias (+ R) (then GELU) on the calling thread: output columns
    /// [NR·p0, NR·p1), all M rows, in row blocks.</summary>
    public static void Panels(int M, float* A, PackedWeight W, float* C, int Ldc, float* R, int Ldr, bool Gelu, int p0, int p1)
    {
        if (W.NR == 16) { PanelsNarrow(M, A, W, C, Ldc, R, Ldr, Gelu, p0, p1); return; }
        float* tile = stackalloc float[MR * 32];
        for (int mb = 0; mb < M; mb += MC)
        {
            int mEnd = Math.Min(M, mb + MC);
            for (int p = p0; p < p1; p++)
                for (int m = mb; m < mEnd; m += MR)
                {
                    int mr = Math.Min(MR, M - m);
                    Kernel(A + (long)m * W.K, W.K, W.Data + (long)p * W.K * 32, mr, tile);
                    Epilogue(tile, W.Bias + p * 32, C + (long)m * Ldc + p * 32, Ldc,
                        R == null ? null : R + (long)m * Ldr + p * 32, Ldr, mr, Math.Min(32, W.N - p * 32), Gelu);
                }
        }
    }

    [ThreadStatic] static Job? job;
    /// <summary>Equal work units where the panel count allows (default); false: the earlier ~4 units per thread.</summary>
    public static bool BalancedUnits { get; set; } = true;

    /// <summary>C = A·Wᵀ + bias (+ R) (then GELU). A (M,K) row stride K; C and R row strides ldc, ldr.</summary>
    public static void Run(int M, float* A, PackedWeight W, float* C, int ldc, float* R = null, int ldr = 0, bool gelu = false)
    {
        if (R != null && gelu) throw new ArgumentException("PackedGemm: a residual and GELU are not combined in one epilogue.");
        var j = job ??= new Job();
        j.A = A; j.C = C; j.R = R; j.M = M; j.Ldc = ldc; j.Ldr = ldr; j.Gelu = gelu; j.W = W;
        long flops = 2L * M * W.N * W.K;
        // Up to 4 units per thread: each unit's A block stays in L2 across its panels, few claims for small M, and
        // still enough units that a descheduled vCPU leaves little undone (bert-gemm, 2 threads, M = 16: +8-25 %
        // against one panel per unit; M = 256 and 1024 within noise).
        int threads = NanoMbpo.Cpu.CpuThreads.Count;
        int grain = flops < 1 << 20 ? W.Panels : Math.Max(1, W.Panels / (4 * threads));
        // Equal units, a multiple of the thread count, where the panel count allows it (every BERT shape: MiniLM's 12 /
        // 36 / 48 panels, BERT-base's 24 / 72 / 96): 9 units of 4 panels left one thread a whole unit alone at the end
        // of each QKV GEMM. bert-gemm, 2 threads: 1152 columns +7-8 %, 384 × 384 +4-7 %; bert-interleaved +1-3 %.
        if (BalancedUnits && flops >= 1 << 20)
            for (int u = 4 * threads; u >= threads; u--)
                if (u % threads == 0 && W.Panels % u == 0) { grain = W.Panels / u; break; }
        WorkShare.Current.For(W.Panels, grain, j.Body);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel(float* a, int K, float* b, int mr, float* tile)
    {
        // Rows past mr re-read the last valid row and are not stored.
        float* a0 = a, a1 = a + K * Math.Min(1, mr - 1), a2 = a + K * Math.Min(2, mr - 1), a3 = a + K * Math.Min(3, mr - 1);
        float* a4 = a + K * Math.Min(4, mr - 1), a5 = a + K * Math.Min(5, mr - 1), a6 = a + K * Math.Min(6, mr - 1), a7 = a + K * Math.Min(7, mr - 1);
        var c00 = Vector512<float>.Zero; var c01 = c00; var c10 = c00; var c11 = c00; var c20 = c00; var c21 = c00; var c30 = c00; var c31 = c00;
        var c40 = c00; var c41 = c00; var c50 = c00; var c51 = c00; var c60 = c00; var c61 = c00; var c70 = c00; var c71 = c00;
        for (int k = 0; k < K; k++, b += 32)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a0[k]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[k]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[k]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[k]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[k]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[k]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[k]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[k]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        // Raw tile out, no calls in this method: a call would make the JIT keep the accumulators on the stack.
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
    }

    /// <summary>The epilogue: tile (8,32) + bias (+ residual) (then GELU) into C's valid rows and columns.</summary>
    static void Epilogue(float* tile, float* bias, float* c, int ldc, float* r, int ldr, int mr, int nr, bool gelu)
    {
        var bias0 = Vector512.Load(bias); var bias1 = Vector512.Load(bias + 16);
        for (int row = 0; row < mr; row++)
            Store(c, ldc, r, ldr, row, mr, nr, Vector512.Load(tile + row * 32) + bias0, Vector512.Load(tile + row * 32 + 16) + bias1, gelu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, int ldc, float* r, int ldr, int row, int mr, int nr, Vector512<float> v0, Vector512<float> v1, bool gelu)
    {
        if (row >= mr) return;
        float* dst = c + (long)row * ldc;
        if (nr == 32)
        {
            if (r != null) { v0 += Vector512.Load(r + (long)row * ldr); v1 += Vector512.Load(r + (long)row * ldr + 16); }
            if (gelu) { v0 = Gelu(v0); v1 = Gelu(v1); }
            v0.Store(dst); v1.Store(dst + 16);
            return;
        }
        float* tmp = stackalloc float[32];
        if (gelu) { v0 = Gelu(v0); v1 = Gelu(v1); }
        v0.Store(tmp); v1.Store(tmp + 16);
        for (int j = 0; j < nr; j++)
        {
            float v = tmp[j];
            if (r != null) v += r[(long)row * ldr + j];   // GELU and residual are never combined (see Run's callers)
            dst[j] = v;
        }
    }

    /// <summary>0.5·v·(1 + erf(v/√2)) with the engine's rational erf (the same as F.Gelu).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Gelu(Vector512<float> v) =>
        Vector512.Create(0.5f) * v * (Vector512<float>.One + Erf.Vector(v * Vector512.Create(0.70710678118654752f)));
}
