// PackedGemmNarrow: the Vector256 twin of PackedGemm's kernel, for CPUs with AVX2 + FMA and no Vector512 (the
// Zen 3 of this machine kind): weights prepacked into 16-column panels, a 6×16 micro-kernel holding the C tile
// in 12 Vector256 accumulators (with the two panel vectors and a broadcast, 15 of the 16 ymm registers, as the
// engine's AVX2 SGEMM kernel), bias / residual / GELU in the epilogue. Each output element is one FMA chain over
// k in order, like the wide kernel, so both widths give the same bits (GemmKernelTests checks it).
// Rows in blocks of 132 (A block in L2). `bench bert-gemm` and `bert-interleaved` run it with
// DOTNET_EnableAVX512=0 (or PackedGemm.PanelWidth = 16). Tests: tests/NanoMbpo.Bert.Tests/GemmKernelTests.cs.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NanoMbpo.Bert.Cpu;

internal static unsafe partial class PackedGemm
{
    const int NarrowMR = 6, NarrowMC = 132;   // 132 = 22 tiles: a 128-row block (4 sequences of 32) in one pass

    /// <summary>Panels [p0, p1) of a 16-column packing: output columns [16·p0, 16·p1), all M rows.</summary>
    static void PanelsNarrow(int M, float* A, PackedWeight W, float* C, int Ldc, float* R, int Ldr, bool Gelu, int p0, int p1)
    {
        float* tile = stackalloc float[NarrowMR * 16];
        for (int mb = 0; mb < M; mb += NarrowMC)
        {
            int mEnd = Math.Min(M, mb + NarrowMC);
            for (int p = p0; p < p1; p++)
                for (int m = mb; m < mEnd; m += NarrowMR)
                {
                    int mr = Math.Min(NarrowMR, M - m);
                    KernelNarrow(A + (long)m * W.K, W.K, W.Data + (long)p * W.K * 16, mr, tile);
                    EpilogueNarrow(tile, W.Bias + p * 16, C + (long)m * Ldc + p * 16, Ldc,
                        R == null ? null : R + (long)m * Ldr + p * 16, Ldr, mr, Math.Min(16, W.N - p * 16), Gelu);
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void KernelNarrow(float* a, int K, float* b, int mr, float* tile)
    {
        // Rows past mr re-read the last valid row and are not stored.
        float* a0 = a, a1 = a + K * Math.Min(1, mr - 1), a2 = a + K * Math.Min(2, mr - 1);
        float* a3 = a + K * Math.Min(3, mr - 1), a4 = a + K * Math.Min(4, mr - 1), a5 = a + K * Math.Min(5, mr - 1);
        var c00 = Vector256<float>.Zero; var c01 = c00; var c10 = c00; var c11 = c00; var c20 = c00; var c21 = c00;
        var c30 = c00; var c31 = c00; var c40 = c00; var c41 = c00; var c50 = c00; var c51 = c00;
        for (int k = 0; k < K; k++, b += 16)
        {
            var b0 = Vector256.Load(b); var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a0[k]); c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[k]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[k]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[k]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[k]); c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[k]); c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        // Raw tile out, no calls in this method (a call would make the JIT keep the accumulators on the stack).
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
    }

    /// <summary>The epilogue: tile (6,16) + bias (+ residual) (then GELU) into C's valid rows and columns.</summary>
    static void EpilogueNarrow(float* tile, float* bias, float* c, int ldc, float* r, int ldr, int mr, int nr, bool gelu)
    {
        var bias0 = Vector256.Load(bias); var bias1 = Vector256.Load(bias + 8);
        float* tmp = stackalloc float[16];
        for (int row = 0; row < mr; row++)
        {
            var v0 = Vector256.Load(tile + row * 16) + bias0; var v1 = Vector256.Load(tile + row * 16 + 8) + bias1;
            float* dst = c + (long)row * ldc, res = r == null ? null : r + (long)row * ldr;
            if (nr == 16)
            {
                if (res != null) { v0 += Vector256.Load(res); v1 += Vector256.Load(res + 8); }
                if (gelu) { v0 = GeluNarrow(v0); v1 = GeluNarrow(v1); }
                v0.Store(dst); v1.Store(dst + 8);
                continue;
            }
            if (gelu) { v0 = GeluNarrow(v0); v1 = GeluNarrow(v1); }
            v0.Store(tmp); v1.Store(tmp + 8);
            for (int j = 0; j < nr; j++) dst[j] = res == null ? tmp[j] : tmp[j] + res[j];   // GELU and a residual never meet
        }
    }

    /// <summary>0.5·v·(1 + erf(v/√2)) with the engine's rational erf (the same as F.Gelu's Vector256 path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> GeluNarrow(Vector256<float> v) =>
        Vector256.Create(0.5f) * v * (Vector256<float>.One + NanoMbpo.Cpu.Erf.Vector(v * Vector256.Create(0.70710678118654752f)));
}
