// Compute.With: threads, instruction set, TF32 and the arena are set per thread for a scope, nest,
// restore on dispose, and never leak into other threads; bad settings are refused by name.
using NanoMbpo.Cpu;
using NanoMbpo.NN;
using Xunit;

namespace NanoMbpo.Tests.Core;

public class ComputeScopeTests
{
    [Fact]
    public void ThreadsNestRestoreAndStayOnTheirThread()
    {
        int outside = CpuThreads.Count;
        using (Compute.With(threads: 3))
        {
            Assert.Equal(3, CpuThreads.Count);
            using (Compute.With(isa: CpuIsa.Scalar)) Assert.Equal(3, CpuThreads.Count);   // unset parts inherit
            using (Compute.With(threads: 1)) Assert.Equal(1, Compute.Threads);
            Assert.Equal(3, Compute.Threads);
            int seenElsewhere = 0;
            var other = new Thread(() => seenElsewhere = Compute.Threads);
            other.Start(); other.Join();
            Assert.Equal(CpuThreads.DefaultCount, seenElsewhere);
            // A loop in the scope really splits three ways.
            var chunks = new List<int>();
            CpuThreads.For(300, 1, (s, e) => { lock (chunks) chunks.Add(s); });
            Assert.Equal(3, chunks.Count);
        }
        Assert.Equal(outside, CpuThreads.Count);
    }

    [Fact]
    public void IsaScopeSelectsTheKernelSetAndRestores()
    {
        var before = Compute.Isa;
        using (Compute.With(isa: CpuIsa.Scalar)) Assert.Equal(CpuIsa.Scalar, Compute.Isa);
        Assert.Equal(before, Compute.Isa);
        foreach (var isa in new[] { CpuIsa.Avx512, CpuIsa.Avx2 })
        {
            if (Compute.Supports(isa)) { using (Compute.With(isa: isa)) Assert.Equal(isa, Compute.Isa); }
            else Assert.Throws<PlatformNotSupportedException>(() => Compute.With(isa: isa));
        }
    }

    [Fact]
    public void Tf32AndArenaScopes()
    {
        Assert.False(Tf32.Use(1, 4096, 4096, 4096));   // off by default, as torch
        using (Compute.With(tf32: true)) Assert.True(Tf32.Use(1, 4096, 4096, 4096));
        Assert.False(Tf32.Use(1, 4096, 4096, 4096));

        var arena = new TensorArena();
        using (Compute.With(arena: arena))
        {
            Assert.Same(arena, TensorArena.Current);
            _ = Tensor.Zeros(7, 3);
        }
        Assert.Null(TensorArena.Current);
        Assert.Equal(1, arena.Misses);
        using (Compute.With(arena: arena)) _ = Tensor.Zeros(7, 3);   // rewound: the same array again
        Assert.Equal(1, arena.Misses);
    }

    [Fact]
    public void BadThreadCountsAreNamed()
    {
        Assert.Equal("threads", Assert.Throws<ArgumentOutOfRangeException>(() => Compute.With(threads: 0)).ParamName);
        Assert.Equal("threads", Assert.Throws<ArgumentOutOfRangeException>(() => Compute.With(threads: 5000)).ParamName);
    }
}
