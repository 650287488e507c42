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
