// Tests for NanoMbpo.Cpu.CpuThreads: every index covered once, fixed chunking, exceptions surface,
// nested loops run serially, the NANOMBPO_TRACE_THREADS table. Run: dotnet test -c Release --filter "FullyQualifiedName~Cpu"
using NanoMbpo.Cpu;
using Xunit;

namespace NanoMbpo.Tests.Cpu;

public class CpuThreadsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 1)]
    [InlineData(1000, 3)]
    [InlineData(5, 100)]
    public void ForCoversEachIndexOnceWithFixedChunks(int n, int grain)
    {
        for (int rep = 0; rep < 50; rep++)
        {
            var hits = new int[n];
            var chunks = new List<(int, int)>();
            CpuThreads.For(n, grain, (s, e) =>
            {
                lock (chunks) chunks.Add((s, e));
                for (int i = s; i < e; i++) Interlocked.Increment(ref hits[i]);
            });
            Assert.All(hits, h => Assert.Equal(1, h));
            int expected = (int)Math.Min(CpuThreads.Count, (n + grain - 1) / grain);
            Assert.Equal(expected, chunks.Count);
            chunks.Sort();
            for (int c = 0; c < chunks.Count; c++)
                Assert.Equal(((int)((long)n * c / expected), (int)((long)n * (c + 1) / expected)), chunks[c]);
        }
    }

    [Fact]
    public void ExceptionsFromChunksPropagateAndPoolStaysUsable()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            CpuThreads.For(100, 1, (s, e) => { if (e == 100) throw new InvalidOperationException("last chunk"); }));
        Assert.Equal("last chunk", ex.Message);
        int sum = 0;
        CpuThreads.For(100, 1, (s, e) => Interlocked.Add(ref sum, e - s));
        Assert.Equal(100, sum);
    }

    [Fact]
    public void NestedForRunsAndCoversAll()
    {
        int total = 0;
        CpuThreads.For(4, 1, (s, e) => CpuThreads.For(10, 1, (s2, e2) => Interlocked.Add(ref total, (e - s) * (e2 - s2))));
        Assert.Equal(40, total);
    }

    [Fact]
    public void InvokeRunsBothActionsAndPropagatesErrors()
    {
        for (int rep = 0; rep < 50; rep++)
        {
            int a = 0, b = 0;
            CpuThreads.Invoke(() => a++, () => b++);
            Assert.Equal((1, 1), (a, b));
        }
        var ex = Assert.Throws<InvalidOperationException>(() => CpuThreads.Invoke(() => { }, () => throw new InvalidOperationException("second")));
        Assert.Equal("second", ex.Message);
        int nested = 0, chunks = 0;   // Invoke inside a pool job runs both serially
        CpuThreads.For(4, 1, (s, e) =>
        {
            Interlocked.Increment(ref chunks);
            CpuThreads.Invoke(() => Interlocked.Increment(ref nested), () => Interlocked.Increment(ref nested));
        });
        Assert.Equal(2 * chunks, nested);
        Assert.Throws<ArgumentNullException>(() => CpuThreads.Invoke(null!, () => { }));
    }

    /// <summary>NANOMBPO_TRACE_THREADS: a traced two-thread region shows up under its body's name.
    /// Another test may hold the pool (the region then runs serially and is not traced), so retry.</summary>
    [Fact]
    public void TraceRecordsRegionsByName()
    {
        bool was = CpuThreadsTrace.Enabled;
        using var scope = Compute.With(threads: Math.Max(2, CpuThreads.Count));
        try
        {
            CpuThreadsTrace.Enabled = true;
            for (int i = 0; i < 500 && !CpuThreadsTrace.Report().Contains(nameof(TracedBody)); i++)
                CpuThreads.For(64, 1, TracedBody);
            string report = CpuThreadsTrace.Report();
            Assert.Contains($"For {nameof(TracedBody)} n=64", report);
            Assert.Contains("worker idle", report);
        }
        finally { CpuThreadsTrace.Enabled = was; }
    }

    static void TracedBody(int start, int end) => Thread.SpinWait(50 * (end - start));

    [Fact]
    public void BadArgumentsAreNamed()
    {
        Assert.Equal("grainSize", Assert.Throws<ArgumentOutOfRangeException>(() => CpuThreads.For(3, 0, (_, _) => { })).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => CpuThreads.For(-1, 1, (_, _) => { })).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => CpuThreads.Count = 0).ParamName);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CpuThreadsHookCollection { public const string Name = "CpuThreads worker hook"; }

/// <summary>Chunks are claimed, not assigned (issue 11): a region whose worker has not started is
/// finished by the caller, results do not depend on which thread ran a chunk, a late worker never runs
/// a chunk of a later region. These tests hold or delay workers through CpuThreads.WorkerStartHook,
/// which is process-wide, hence their own collection that runs with no other test beside it.</summary>
[Collection(CpuThreadsHookCollection.Name)]
public unsafe class CpuThreadsClaimTests
{
    /// <summary>Holds every worker that wakes for a region until released (or 3 s pass).</summary>
    sealed class Hold : IDisposable
    {
        readonly ManualResetEventSlim _release = new(false);
        internal int Entered;
        internal volatile bool TimedOut;
        internal Hold() => CpuThreads.WorkerStartHook = _ =>
        {
            Interlocked.Increment(ref Entered);
            if (!_release.Wait(3000)) TimedOut = true;
        };
        internal void Release() => _release.Set();
        /// <summary>Waits until some worker entered the hook (so the region really was posted to one).</summary>
        internal bool WaitEntered() => SpinWait.SpinUntil(() => Volatile.Read(ref Entered) > 0, 2000);
        public void Dispose() { CpuThreads.WorkerStartHook = null; _release.Set(); }
    }

    /// <summary>Fails on the pool before issue 11 (with the hook added there: the region waits the 3 s for
    /// the held worker, so TimedOut is set when it returns).</summary>
    [Fact]
    public void ARegionCompletesOnTheCallerWhileItsWorkerIsHeldBack()
    {
        using var scope = Compute.With(threads: 2);
        int caller = Environment.CurrentManagedThreadId;
        for (int rep = 0; rep < 3; rep++)
        {
            using var hold = new Hold();
            var hits = new int[2];
            var ranOn = new int[2];
            CpuThreads.For(2, 1, (s, e) =>
            {
                for (int i = s; i < e; i++) { Interlocked.Increment(ref hits[i]); ranOn[i] = Environment.CurrentManagedThreadId; }
            });
            bool waited = hold.TimedOut;
            Assert.True(hold.WaitEntered(), "the region was never posted to a worker");
            hold.Release();
            Assert.False(waited, "the region waited for the held worker");
            Assert.Equal([1, 1], hits);
            Assert.Equal([caller, caller], ranOn);
        }

        using (var hold = new Hold())
        {
            int first = 0, second = 0, secondOn = 0;
            CpuThreads.Invoke(() => first++, () => { second++; secondOn = Environment.CurrentManagedThreadId; });
            bool waited = hold.TimedOut;
            Assert.True(hold.WaitEntered());
            hold.Release();
            Assert.False(waited, "Invoke waited for the held worker");
            Assert.Equal((1, 1, caller), (first, second, secondOn));
        }
    }

    /// <summary>With three workers and only the second one held, the other chunks still run exactly once
    /// and the region does not wait. Fails on the old pool as the test above.</summary>
    [Fact]
    public void OneHeldWorkerAmongSeveralIsNotWaitedFor()
    {
        using var scope = Compute.With(threads: 4);
        using var release = new ManualResetEventSlim(false);
        bool timedOut = false;
        CpuThreads.WorkerStartHook = w => { if (w == 2 && !release.Wait(3000)) Volatile.Write(ref timedOut, true); };
        try
        {
            for (int rep = 0; rep < 20; rep++)
            {
                var hits = new int[400];
                CpuThreads.For(400, 1, (s, e) => { for (int i = s; i < e; i++) Interlocked.Increment(ref hits[i]); });
                Assert.False(Volatile.Read(ref timedOut), "the region waited for the held worker");
                Assert.All(hits, h => Assert.Equal(1, h));
            }
        }
        finally { CpuThreads.WorkerStartHook = null; release.Set(); }
    }

    static float[] Gemm(int M, int N, int K, int threads)
    {
        var a = SgemmTests.Random(M * K, 11); var b = SgemmTests.Random(K * N, 12);
        var c = new float[M * N];
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            Sgemm.RunCore(false, false, M, N, K, 1f, pa, K, pb, N, 0f, pc, N, threads);
        return c;
    }

    /// <summary>A GEMM whose second chunk the caller runs (worker held) is bitwise the one-thread and the
    /// normal two-thread GEMM. On the old pool (hook added) the results agree but the region waits for
    /// the held worker, so the test fails there at "waited".</summary>
    [Theory]
    [InlineData(256, 256, 256)]   // split along M, in place (the SAC update's GEMM)
    [InlineData(256, 16, 256)]
    [InlineData(301, 517, 290)]   // packed, K blocks
    public void GemmWithAHeldWorkerMatchesOneAndTwoThreadsBitwise(int M, int N, int K)
    {
        var one = Gemm(M, N, K, 1);
        var two = Gemm(M, N, K, 2);
        Assert.Equal(one, two);
        using var hold = new Hold();
        var stolen = Gemm(M, N, K, 2);
        bool waited = hold.TimedOut;
        hold.Release();
        Assert.False(waited, "the GEMM waited for the held worker");
        Assert.Equal(one, stolen);
    }

    /// <summary>A GEMM split along M with a shared packed B meets at barriers: it must still finish (one
    /// chunk per thread, so it waits for the delayed worker) and match one thread bitwise.</summary>
    [Fact]
    public void SharedPanelGemmWithADelayedWorkerFinishesAndMatches()
    {
        const int M = 800, N = 256, K = 600;   // M >= MC·2, operands too large to read in place, K > KC
        var one = Gemm(M, N, K, 1);
        CpuThreads.WorkerStartHook = _ => Thread.Sleep(5);
        try
        {
            for (int rep = 0; rep < 3; rep++) Assert.Equal(one, Gemm(M, N, K, 2));
        }
        finally { CpuThreads.WorkerStartHook = null; }
        Assert.Equal(one, Gemm(M, N, K, 2));
    }

    /// <summary>A reduction kept per chunk (partials added in chunk order) is the same whether the worker
    /// ran its chunk or the caller did. Passes on the old pool too.</summary>
    [Fact]
    public void ForReductionIsTheSameWhoeverRanTheChunks()
    {
        using var scope = Compute.With(threads: 2);
        var x = SgemmTests.Random(10_001, 5);
        float Sum()
        {
            var partial = new float[2];
            CpuThreads.For(x.Length, 1000, (s, e) =>
            {
                float acc = 0; for (int i = s; i < e; i++) acc += x[i] * 1.000123f;
                partial[s == 0 ? 0 : 1] = acc;
            });
            return partial[0] + partial[1];
        }
        float serial = 0;
        {
            float p0 = 0, p1 = 0; int h = x.Length / 2;
            for (int i = 0; i < h; i++) p0 += x[i] * 1.000123f;
            for (int i = h; i < x.Length; i++) p1 += x[i] * 1.000123f;
            serial = p0 + p1;
        }
        Assert.Equal(serial, Sum());
        using var hold = new Hold();
        float held = Sum();
        hold.Release();
        Assert.Equal(serial, held);
    }

    /// <summary>A chunk sees the caller's Compute.With(isa: ...) whichever thread runs it, so a GEMM in an
    /// Invoke or For body uses the same kernels on a worker as on the caller. Fails on the old pool: a
    /// worker ran with its own (Auto) kernel set.</summary>
    [Fact]
    public void ChunksSeeTheCallersKernelChoiceOnEveryThread()
    {
        using var scope = Compute.With(threads: 2, isa: CpuIsa.Scalar);
        var seen = new HashSet<CpuIsa>();
        for (int rep = 0; rep < 50; rep++)
        {
            CpuIsa second = CpuIsa.Auto;
            CpuThreads.Invoke(() => Thread.SpinWait(20_000), () => second = Compute.Isa);
            seen.Add(second);
            CpuThreads.For(2, 1, (s, e) => { Thread.SpinWait(20_000); lock (seen) seen.Add(Compute.Isa); });
        }
        Assert.Equal([CpuIsa.Scalar], seen);
        Assert.Equal(CpuIsa.Scalar, Compute.Isa);
    }

    sealed class RecordingJob : PoolJob
    {
        internal int Region;
        internal int[]? Hits;
        internal static int Current = -1, Stale;
        internal override void Execute(int chunk, int chunkCount)
        {
            if (Volatile.Read(ref Current) != Region) Interlocked.Increment(ref Stale);
            if ((chunk & 1) == 1) Thread.SpinWait(Random.Shared.Next(200));
            Interlocked.Increment(ref Hits![chunk]);
            if (Volatile.Read(ref Current) != Region) Interlocked.Increment(ref Stale);
        }
    }

    /// <summary>Thousands of back-to-back regions (For, Invoke and a reused PoolJob, as the engine's cached
    /// jobs are), random chunk counts and thread counts, workers delayed at random: every chunk runs
    /// exactly once, and no body runs after its region returned (a late worker running a chunk of the next
    /// region with the previous one's body or fields). The old pool passes it too (slowly): it is the
    /// guard against a claim race in the new one.</summary>
    [Fact]
    public void StressBackToBackRegionsWithRandomDelaysRunEveryChunkOnce()
    {
        var rng = new Random(20261211);
        int current = -1, stale = 0;
        var job = new RecordingJob();
        CpuThreads.WorkerStartHook = _ =>
        {
            int r = Random.Shared.Next(32);
            if (r < 8) Thread.SpinWait(Random.Shared.Next(2000));
            else if (r < 12) Thread.Yield();
            else if (r == 12) Thread.Sleep(0);
            else if (r == 13) Thread.Sleep(1);
        };
        try
        {
            for (int region = 0; region < 4000; region++)
            {
                using var scope = Compute.With(threads: rng.Next(2, 5));
                int r = region, kind = rng.Next(3);
                Volatile.Write(ref current, r);
                if (kind == 0)
                {
                    int n = rng.Next(1, 9);
                    var hits = new int[n];
                    CpuThreads.For(n, 1, (s, e) =>
                    {
                        if (Volatile.Read(ref current) != r) Interlocked.Increment(ref stale);
                        if (s == 0) Thread.SpinWait(Random.Shared.Next(300));
                        for (int i = s; i < e; i++) Interlocked.Increment(ref hits[i]);
                        if (Volatile.Read(ref current) != r) Interlocked.Increment(ref stale);
                    });
                    for (int i = 0; i < n; i++) Assert.True(hits[i] == 1, $"region {r}: index {i} ran {hits[i]} times");
                }
                else if (kind == 1)
                {
                    int a = 0, b = 0;
                    CpuThreads.Invoke(() => { if (Volatile.Read(ref current) != r) Interlocked.Increment(ref stale); a++; },
                                      () => { if (Volatile.Read(ref current) != r) Interlocked.Increment(ref stale); b++; });
                    Assert.True((a, b) == (1, 1), $"region {r}: Invoke ran ({a}, {b})");
                }
                else
                {
                    int chunks = rng.Next(1, CpuThreads.Count + 1);
                    job.Region = r; job.Hits = new int[chunks];
                    Volatile.Write(ref RecordingJob.Current, r);
                    CpuThreads.Run(job, chunks);
                    Volatile.Write(ref RecordingJob.Current, -1);
                    for (int i = 0; i < chunks; i++) Assert.True(job.Hits[i] == 1, $"region {r}: chunk {i} ran {job.Hits[i]} times");
                }
                Volatile.Write(ref current, -1);
            }
            Thread.Sleep(50);   // a late worker would have run by now
            Assert.Equal(0, Volatile.Read(ref stale));
            Assert.Equal(0, Volatile.Read(ref RecordingJob.Stale));
        }
        finally { CpuThreads.WorkerStartHook = null; }
    }

    /// <summary>Exceptions still surface when the throwing chunk was taken over by the caller, or ran on a
    /// worker; with several, the lowest chunk's wins (as the old pool: the caller's, then worker order);
    /// the pool stays usable. Passes on the old pool too.</summary>
    [Fact]
    public void ExceptionsPropagateFromStolenAndWorkerChunks()
    {
        using var scope = Compute.With(threads: 2);
        using (var hold = new Hold())
        {
            var ex = Assert.Throws<InvalidOperationException>(() =>
                CpuThreads.For(2, 1, (s, e) => { if (s == 1) throw new InvalidOperationException("stolen chunk"); }));
            hold.Release();
            Assert.Equal("stolen chunk", ex.Message);
        }
        for (int rep = 0; rep < 20; rep++)
        {
            var ex = Assert.Throws<InvalidOperationException>(() =>
                CpuThreads.For(2, 1, (s, e) => { if (s == 1) { Thread.SpinWait(1000); throw new InvalidOperationException("chunk 1"); } }));
            Assert.Equal("chunk 1", ex.Message);
            ex = Assert.Throws<InvalidOperationException>(() =>
                CpuThreads.For(2, 1, (s, e) => throw new InvalidOperationException($"chunk {(s == 0 ? 0 : 1)}")));
            Assert.Equal("chunk 0", ex.Message);
        }
        int sum = 0;
        CpuThreads.For(100, 1, (s, e) => Interlocked.Add(ref sum, e - s));
        Assert.Equal(100, sum);
    }
}
