// SGEMM blocking driver (BLIS loop order jc/pc/ic/jr/ir) and panel packing.
// One call of Compute handles one thread's fixed (M-range, N-range) of C. K is blocked by KC, and
// every C element is accumulated in the same k order whatever the thread split, so results are
// bit-identical across thread counts. Small operands are read in place (no packing): the kernels
// broadcast A from rows or from Aᵀ storage and stream row-major B; edge tiles are packed with zeros.
// Tests: tests/NanoMbpo.Tests/Cpu/SgemmTests.cs (ForcePack toggles both paths).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoMbpo.Cpu;

internal enum SgemmIsa { Auto, Avx512, Avx2, Scalar }

/// <summary>One GEMM in strided form: A(i,k)=A[i*Ars+k*Aks], B(k,j)=B[k*Bks+j*Bjs], C(i,j)=C[i*Ldc+j*Csc].
/// Csc != 1 only for the swapped problem Cᵀ = op(B)ᵀ·op(A)ᵀ, whose tiles are scattered through a buffer.</summary>
internal unsafe struct GemmProblem
{
    public int M, N, K;
    public float Alpha, Beta;
    public float* A; public nint Ars, Aks;
    public float* B; public nint Bks, Bjs;
    public float* C; public nint Ldc, Csc;
    /// <summary>Optional epilogue (Csc == 1 only): Bias (N) seeds every C row before the first K block
    /// (as if C held the bias and Beta were 1: the same rounding as seeding C up front, but in cache);
    /// Relu clamps each finished tile at 0 right after its last K block, while it is still in L1.</summary>
    public float* Bias;
    public bool Relu;
}

/// <summary>A micro-kernel and the blocking that suits it.</summary>
internal unsafe readonly struct KernelSet
{
    /// <summary>Kernel for any A strides; KernelUnitRow for A with unit row stride (ars == 1).</summary>
    public readonly delegate* managed<int, float*, nint, nint, float*, nint, float*, nint, float, float, void> Kernel, KernelUnitRow;
    public readonly int MR, NR, MC, KC, NC;
    public KernelSet(delegate* managed<int, float*, nint, nint, float*, nint, float*, nint, float, float, void> kernel,
        delegate* managed<int, float*, nint, nint, float*, nint, float*, nint, float, float, void> kernelUnitRow, int mr, int nr, int mc, int kc, int nc)
    { Kernel = kernel; KernelUnitRow = kernelUnitRow; MR = mr; NR = nr; MC = mc; KC = kc; NC = nc; }

    // Blocking: KC*NR*4 bytes of B micro-panel stay in L1 (16 KiB of Zen 3's 32, 32 KiB of Intel's 48),
    // MC*KC*4 bytes of packed A stay in L2, KC*NC*4 bytes of packed B in L3.
    public static KernelSet For(SgemmIsa isa, int n) => SgemmTuning.Apply(isa switch
    {
        SgemmIsa.Avx512 when n <= 16 => new(&SgemmKernels.K8x16, &SgemmKernels.K8x16P, 8, 16, 192, 256, 1024),
        SgemmIsa.Avx512 => new(&SgemmKernels.K8x32, &SgemmKernels.K8x32P, 8, 32, 192, 256, 1024),
        SgemmIsa.Avx2 => new(&SgemmKernels.K6x16, &SgemmKernels.K6x16, 6, 16, 144, 256, 1024),
        _ => new(&SgemmKernels.K4x4, &SgemmKernels.K4x4, 4, 4, 64, 256, 256),
    });

    public KernelSet WithBlocking(int mc, int kc, int nc) => new(Kernel, KernelUnitRow, MR, NR, mc, kc, nc);
}

/// <summary>Cache-blocking override for tuning runs on a new CPU: NANOMBPO_SGEMM_BLOCKING="MC,KC,NC"
/// (MC up to 384, rounded down to a multiple of the kernel's MR; KC up to 512; NC a multiple of NR, up to 2048).
/// Read once; a malformed value is an error naming the variable and what was expected.</summary>
internal static class SgemmTuning
{
    public const string Variable = "NANOMBPO_SGEMM_BLOCKING";
    static readonly (int Mc, int Kc, int Nc)? Blocking = Parse(Environment.GetEnvironmentVariable(Variable));

    internal static (int Mc, int Kc, int Nc)? Parse(string? v)
    {
        if (string.IsNullOrWhiteSpace(v)) return null;
        var parts = v.Split(',');
        if (parts.Length != 3 || !int.TryParse(parts[0], out int mc) || !int.TryParse(parts[1], out int kc) || !int.TryParse(parts[2], out int nc)
            || mc < 8 || mc > GemmWorkspace.MaxMC || kc < 16 || kc > GemmWorkspace.MaxKC || nc < 32 || nc > GemmWorkspace.MaxNC || nc % 32 != 0)
            throw new ArgumentException($"{Variable}='{v}': expected \"MC,KC,NC\" with MC in 8..{GemmWorkspace.MaxMC} (rounded down to the kernel's MR), KC in 16..{GemmWorkspace.MaxKC}, NC in 32..{GemmWorkspace.MaxNC} (a multiple of 32).");
        return (mc, kc, nc);
    }

    /// <summary>NANOMBPO_SGEMM_SHARED_B=0 turns off the shared packed B block of two-thread GEMMs split
    /// along M (each thread then packs its own), to compare the two on a new CPU.</summary>
    public static readonly bool SharedB = Environment.GetEnvironmentVariable("NANOMBPO_SGEMM_SHARED_B") != "0";

    public static KernelSet Apply(KernelSet ks) =>
        Blocking is { } b ? ks.WithBlocking(b.Mc - b.Mc % ks.MR, b.Kc, b.Nc) : ks;
}

/// <summary>Per-thread packing buffers, 64-byte aligned, allocated once per thread and reused.</summary>
internal sealed unsafe class GemmWorkspace
{
    internal const int MaxMC = 384, MaxKC = 512, MaxNC = 2048, MaxMR = 8, MaxNR = 32;
    public readonly float* A, B, AEdge, BEdge, Tile;
    [ThreadStatic] static GemmWorkspace? _current;
    public static GemmWorkspace Current => _current ??= new GemmWorkspace();

    GemmWorkspace()
    {
        A = Alloc((MaxMC + MaxMR) * MaxKC + 8);
        B = Alloc(MaxKC * (MaxNC + MaxNR));
        AEdge = Alloc(MaxMR * MaxKC + 8);
        BEdge = Alloc(MaxKC * MaxNR);
        Tile = Alloc(MaxMR * MaxNR);
    }

    static float* Alloc(int floats) => (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);

    ~GemmWorkspace()
    {
        NativeMemory.AlignedFree(A); NativeMemory.AlignedFree(B); NativeMemory.AlignedFree(AEdge);
        NativeMemory.AlignedFree(BEdge); NativeMemory.AlignedFree(Tile);
    }
}

/// <summary>A packed B block shared by the threads of one GEMM split along M: each thread packs its share
/// of the panels, then all wait at a barrier, so B is packed once instead of once per thread.</summary>
internal sealed unsafe class SharedPanel
{
    public readonly float* Buffer = (float*)NativeMemory.AlignedAlloc((nuint)(GemmWorkspace.MaxKC * (GemmWorkspace.MaxNC + GemmWorkspace.MaxNR)) * sizeof(float), 64);
    int _arrived, _generation;

    public void Barrier(int parties)
    {
        int g = Volatile.Read(ref _generation);
        if (Interlocked.Increment(ref _arrived) == parties)
        {
            _arrived = 0;
            Interlocked.Increment(ref _generation);
            return;
        }
        var sw = new SpinWait();
        while (Volatile.Read(ref _generation) == g) sw.SpinOnce(sleep1Threshold: -1);
    }

    ~SharedPanel() => NativeMemory.AlignedFree(Buffer);
}

internal static unsafe class SgemmDriver
{
    /// <summary>Computes rows [m0,m1) x columns [n0,n1) of C. Range starts must be multiples of MR / NR.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(in GemmProblem p, in KernelSet ks, bool packA, bool packB, int m0, int m1, int n0, int n1,
        SharedPanel? shared = null, int part = 0, int parts = 1)
    {
        var ws = GemmWorkspace.Current;
        int MR = ks.MR, NR = ks.NR;
        var kernelAny = ks.Kernel;
        var kernelUnit = ks.KernelUnitRow;
        for (int jc = n0; jc < n1; jc += ks.NC)
        {
            int nc = Math.Min(ks.NC, n1 - jc);
            int nPanels = (nc + NR - 1) / NR;
            int lastNr = nc - (nPanels - 1) * NR;
            for (int pc = 0; pc < p.K; pc += ks.KC)
            {
                int kc = Math.Min(ks.KC, p.K - pc);
                float beta = pc == 0 ? p.Beta : 1f; // later K blocks accumulate into C
                bool seed = pc == 0 && p.Bias != null, relu = p.Relu && pc + kc >= p.K;
                if (seed) beta = 1f;
                float* bk = p.B + pc * p.Bks + jc * p.Bjs;
                float* bBase = ws.B;
                if (shared != null)
                {
                    int q0 = nPanels * part / parts, q1 = nPanels * (part + 1) / parts;
                    if (q1 > q0) PackB(bk + q0 * NR * p.Bjs, p.Bks, p.Bjs, kc, Math.Min(nc, q1 * NR) - q0 * NR, NR, shared.Buffer + q0 * kc * NR);
                    shared.Barrier(parts);
                    bBase = shared.Buffer;
                }
                else if (packB) PackB(bk, p.Bks, p.Bjs, kc, nc, NR, ws.B);
                else if (lastNr != NR) PackB(bk + (nPanels - 1) * NR * p.Bjs, p.Bks, p.Bjs, kc, lastNr, NR, ws.BEdge);
                for (int ic = m0; ic < m1; ic += ks.MC)
                {
                    int mc = Math.Min(ks.MC, m1 - ic);
                    int mPanels = (mc + MR - 1) / MR;
                    int lastMr = mc - (mPanels - 1) * MR;
                    float* ai = p.A + ic * p.Ars + pc * p.Aks;
                    if (packA) PackA(ai, p.Ars, p.Aks, kc, mc, MR, ws.A);
                    else if (lastMr != MR) PackA(ai + (mPanels - 1) * MR * p.Ars, p.Ars, p.Aks, kc, lastMr, MR, ws.AEdge);
                    for (int q = 0; q < nPanels; q++)
                    {
                        int nr = q == nPanels - 1 ? lastNr : NR;
                        float* bp; nint bks;
                        if (packB) { bp = bBase + q * kc * NR; bks = NR; }
                        else if (nr == NR) { bp = bk + q * NR; bks = p.Bks; }
                        else { bp = ws.BEdge; bks = NR; }
                        float* cq = p.C + ic * p.Ldc + (jc + q * NR) * p.Csc;
                        for (int r = 0; r < mPanels; r++)
                        {
                            int mr = r == mPanels - 1 ? lastMr : MR;
                            float* ap; nint ars, aks;
                            if (packA) { ap = ws.A + r * kc * MR; ars = 1; aks = MR; }
                            else if (mr == MR) { ap = ai + r * MR * p.Ars; ars = p.Ars; aks = p.Aks; }
                            else { ap = ws.AEdge; ars = 1; aks = MR; }
                            float* cp = cq + r * MR * p.Ldc;
                            var kernel = ars == 1 ? kernelUnit : kernelAny;
                            if (seed) SeedBias(cp, p.Ldc, p.Bias + jc + q * NR, mr, nr);
                            if (mr == MR && nr == NR && p.Csc == 1) kernel(kc, ap, ars, aks, bp, bks, cp, p.Ldc, p.Alpha, beta);
                            else
                            {
                                kernel(kc, ap, ars, aks, bp, bks, ws.Tile, NR, 1f, 0f);
                                MergeTile(ws.Tile, NR, cp, p.Ldc, p.Csc, mr, nr, p.Alpha, beta);
                            }
                            if (relu) ReluTile(cp, p.Ldc, mr, nr);
                        }
                    }
                }
                shared?.Barrier(parts); // nobody repacks B while another thread still reads it
            }
        }
    }

    /// <summary>The epilogue alone, for the K == 0 case: C += bias on every row, then ReLU.</summary>
    internal static void Epilogue(float* c, nint ldc, int m, int n, float* bias, bool relu)
    {
        for (int i = 0; i < m; i++)
        {
            float* row = c + i * ldc;
            if (bias != null) for (int j = 0; j < n; j++) row[j] += bias[j];
            if (relu) ReluTile(row, ldc, 1, n);
        }
    }

    /// <summary>C rows [0,mr) x columns [0,nr) = bias[0..nr).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void SeedBias(float* c, nint ldc, float* bias, int mr, int nr)
    {
        for (int i = 0; i < mr; i++, c += ldc)
        {
            int j = 0;
            for (; j + 8 <= nr; j += 8) Vector256.Store(Vector256.Load(bias + j), c + j);
            for (; j < nr; j++) c[j] = bias[j];
        }
    }

    /// <summary>C = max(C, 0) over an mr x nr tile; NaN stays NaN (as TensorPrimitives.Max and torch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void ReluTile(float* c, nint ldc, int mr, int nr)
    {
        for (int i = 0; i < mr; i++, c += ldc)
        {
            int j = 0;
            for (; j + 8 <= nr; j += 8)
            {
                var v = Vector256.Load(c + j);
                // v <= 0 is false for NaN (kept) and true for -0 (written as +0, as Max(-0, +0) gives).
                Vector256.Store(Vector256.ConditionalSelect(Vector256.LessThanOrEqual(v, Vector256<float>.Zero), Vector256<float>.Zero, v), c + j);
            }
            for (; j < nr; j++) if (c[j] <= 0f) c[j] = 0f;
        }
    }

    /// <summary>Same arithmetic as the kernels' store, so edge tiles round like full tiles.</summary>
    static void MergeTile(float* t, int ldt, float* c, nint ldc, nint csc, int mr, int nr, float alpha, float beta)
    {
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
            {
                float* pc = c + i * ldc + j * csc;
                *pc = beta == 0f ? t[i * ldt + j] * alpha : MathF.FusedMultiplyAdd(alpha, t[i * ldt + j], *pc * beta);
            }
    }

    /// <summary>Packs rows x kc of A into MR-row panels (k-major, MR contiguous), zero-padding the last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackA(float* a, nint ars, nint aks, int kc, int rows, int MR, float* dst)
    {
        for (int i0 = 0; i0 < rows; i0 += MR, dst += kc * MR)
        {
            int m = Math.Min(MR, rows - i0);
            float* src = a + i0 * ars;
            if (ars == 1)
            {
                if (m == 8)
                    for (int k = 0; k < kc; k++) Vector256.Store(Vector256.Load(src + k * aks), dst + k * 8);
                else if (m == 6 && MR == 6)
                    for (int k = 0; k < kc; k++) // AVX2 6-row panels: 4 + 2 floats, never reads past the tile
                    {
                        float* s = src + k * aks, d = dst + k * 6;
                        Vector128.Store(Vector128.Load(s), d);
                        *(double*)(d + 4) = *(double*)(s + 4);
                    }
                else
                    for (int k = 0; k < kc; k++)
                    {
                        float* s = src + k * aks, d = dst + k * MR;
                        int i = 0;
                        for (; i < m; i++) d[i] = s[i];
                        for (; i < MR; i++) d[i] = 0f;
                    }
            }
            else if (aks == 1 && m == MR && MR <= 8 && Avx.IsSupported)
                TransposePack(src, ars, MR, kc, dst, MR);
            else
            {
                for (int i = 0; i < m; i++)
                {
                    float* s = src + i * ars; float* d = dst + i;
                    for (int k = 0; k < kc; k++) d[k * MR] = s[k * aks];
                }
                for (int i = m; i < MR; i++)
                    for (int k = 0; k < kc; k++) dst[k * MR + i] = 0f;
            }
        }
    }

    /// <summary>dst[k*ldd + r] = src[r*lds + k] for r &lt; rows (rows &lt;= 8), k &lt; kc, via 8x8 AVX transposes.
    /// With rows &lt; 8 each k writes 8 floats and the next k overwrites the 2 spare ones, so k ascends
    /// and the buffers keep 8 floats of slack at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TransposePack(float* src, nint lds, int rows, int kc, float* dst, int ldd)
    {
        float* r0 = src, r1 = src + lds, r2 = src + 2 * lds, r3 = src + 3 * lds, r4 = src + 4 * lds, r5 = src + 5 * lds;
        float* r6 = rows > 6 ? src + 6 * lds : r0, r7 = rows > 7 ? src + 7 * lds : r0;
        int k = 0;
        for (; k + 8 <= kc; k += 8)
        {
            var a0 = Avx.LoadVector256(r0 + k); var a1 = Avx.LoadVector256(r1 + k); var a2 = Avx.LoadVector256(r2 + k); var a3 = Avx.LoadVector256(r3 + k);
            var a4 = Avx.LoadVector256(r4 + k); var a5 = Avx.LoadVector256(r5 + k); var a6 = Avx.LoadVector256(r6 + k); var a7 = Avx.LoadVector256(r7 + k);
            var t0 = Avx.UnpackLow(a0, a1); var t1 = Avx.UnpackHigh(a0, a1); var t2 = Avx.UnpackLow(a2, a3); var t3 = Avx.UnpackHigh(a2, a3);
            var t4 = Avx.UnpackLow(a4, a5); var t5 = Avx.UnpackHigh(a4, a5); var t6 = Avx.UnpackLow(a6, a7); var t7 = Avx.UnpackHigh(a6, a7);
            var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE); var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
            var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE); var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
            float* d = dst + k * ldd;
            Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20)); d += ldd;
            Avx.Store(d, Avx.Permute2x128(u1, u5, 0x20)); d += ldd;
            Avx.Store(d, Avx.Permute2x128(u2, u6, 0x20)); d += ldd;
            Avx.Store(d, Avx.Permute2x128(u3, u7, 0x20)); d += ldd;
            Avx.Store(d, Avx.Permute2x128(u0, u4, 0x31)); d += ldd;
            Avx.Store(d, Avx.Permute2x128(u1, u5, 0x31)); d += ldd;
            Avx.Store(d, Avx.Permute2x128(u2, u6, 0x31)); d += ldd;
            Avx.Store(d, Avx.Permute2x128(u3, u7, 0x31));
        }
        for (; k < kc; k++)
            for (int r = 0; r < rows; r++) dst[k * ldd + r] = src[r * lds + k];
    }

    /// <summary>Packs kc x cols of B into NR-column panels (k-major, NR contiguous), zero-padding the last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackB(float* b, nint bks, nint bjs, int kc, int cols, int NR, float* dst)
    {
        for (int j0 = 0; j0 < cols; j0 += NR, dst += kc * NR)
        {
            int n = Math.Min(NR, cols - j0);
            float* src = b + j0 * bjs;
            if (bjs == 1 && n == NR && (NR & 7) == 0)
            {
                for (int k = 0; k < kc; k++)
                {
                    float* s = src + k * bks, d = dst + k * NR;
                    for (int j = 0; j < NR; j += 8) Vector256.Store(Vector256.Load(s + j), d + j);
                }
            }
            else if (bjs == 1)
            {
                for (int k = 0; k < kc; k++)
                {
                    float* s = src + k * bks, d = dst + k * NR;
                    int j = 0;
                    for (; j < n; j++) d[j] = s[j];
                    for (; j < NR; j++) d[j] = 0f;
                }
            }
            else if (bks == 1 && n == NR && (NR & 7) == 0 && Avx.IsSupported)
            {
                for (int j = 0; j < NR; j += 8) TransposePack(src + j * bjs, bjs, 8, kc, dst + j, NR);
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    float* s = src + j * bjs; float* d = dst + j;
                    for (int k = 0; k < kc; k++) d[k * NR] = s[k * bks];
                }
                for (int j = n; j < NR; j++)
                    for (int k = 0; k < kc; k++) dst[k * NR + j] = 0f;
            }
        }
    }
}
