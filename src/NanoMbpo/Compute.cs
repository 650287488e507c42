// Compute: the scoped compute context. Threads, the CPU instruction set the SGEMM kernels use, the
// TF32 policy for device matmuls and the tensor allocator (a TensorArena) are set for a block of code
// on the calling thread and restored when the scope ends:
//     using (Compute.With(threads: 2, arena: stepArena)) { ... }
// Scopes nest (an inner setting wins, unset ones inherit) and are per thread, so tests that change
// them run side by side without racing, unlike the process-wide defaults (CpuThreads.Count,
// Tf32.Allowed) that command-line entry points set once. Results never depend on the thread count:
// every parallel loop has a fixed partition and reduction order (tests compare 1, 2 and 3 threads).
// Tests: tests/NanoMbpo.Tests/Core/ComputeScopeTests.cs.
using NanoMbpo.Cpu;
using NanoMbpo.NN;

namespace NanoMbpo;

/// <summary>The CPU kernel set; Auto picks the best the CPU supports (AVX-512, else AVX2+FMA, else scalar).</summary>
public enum CpuIsa { Auto, Avx512, Avx2, Scalar }

public static class Compute
{
    [ThreadStatic] static int threads;   // 0: not set in a scope on this thread

    /// <summary>Threads parallel loops started on this thread use: the innermost scope's, else the
    /// process default CpuThreads.DefaultCount.</summary>
    public static int Threads => threads > 0 ? threads : CpuThreads.DefaultCount;

    /// <summary>The instruction set SGEMM runs on this thread (Auto resolved).</summary>
    public static CpuIsa Isa => Sgemm.ActiveIsa switch { SgemmIsa.Avx512 => CpuIsa.Avx512, SgemmIsa.Avx2 => CpuIsa.Avx2, _ => CpuIsa.Scalar };

    /// <summary>Whether this CPU can run the given kernel set.</summary>
    public static bool Supports(CpuIsa isa) => isa switch
    {
        CpuIsa.Avx512 => Sgemm.BestIsa == SgemmIsa.Avx512,
        CpuIsa.Avx2 => Sgemm.BestIsa is SgemmIsa.Avx512 or SgemmIsa.Avx2,
        _ => true,
    };

    /// <summary>Sets the given parts of the context on this thread until the scope is disposed; a
    /// null argument keeps the current setting. <paramref name="tf32"/> allows TF32 for large device
    /// matmuls; <paramref name="arena"/> serves every tensor and op scratch allocated in the scope
    /// (and is rewound: see TensorArena.Use).</summary>
    public static Scope With(int? threads = null, CpuIsa? isa = null, bool? tf32 = null, TensorArena? arena = null)
    {
        if (threads is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be in [1, 1024].");
        if (isa is { } i && !Supports(i)) throw new PlatformNotSupportedException($"Compute.With: this CPU cannot run the {i} kernels (best: {Sgemm.BestIsa}).");
        var s = new Scope(Compute.threads, Sgemm.ForceIsa, tf32 is null ? null : Tf32.Scope(tf32.Value), arena?.Use());
        if (threads is { } t) Compute.threads = t;
        if (isa is { } x) Sgemm.ForceIsa = x switch { CpuIsa.Avx512 => SgemmIsa.Avx512, CpuIsa.Avx2 => SgemmIsa.Avx2, CpuIsa.Scalar => SgemmIsa.Scalar, _ => SgemmIsa.Auto };
        return s;
    }

    public readonly struct Scope : IDisposable
    {
        readonly int threads;
        readonly SgemmIsa isa;
        readonly IDisposable? tf32;
        readonly TensorArena.Scope? arena;
        internal Scope(int threads, SgemmIsa isa, IDisposable? tf32, TensorArena.Scope? arena)
        {
            this.threads = threads; this.isa = isa; this.tf32 = tf32; this.arena = arena;
        }
        public void Dispose()
        {
            arena?.Dispose();
            tf32?.Dispose();
            Sgemm.ForceIsa = isa;
            Compute.threads = threads;
        }
    }
}
