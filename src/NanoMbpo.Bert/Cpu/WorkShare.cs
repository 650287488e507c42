// WorkShare: the parallel loop of the inference path. The caller and CpuThreads.Count - 1 helper threads
// claim work units one at a time from a shared counter tagged with the job's generation (so a helper
// that wakes late can never run a unit of a finished job); the caller returns once every unit is done
// and never waits for a helper to *start*. With a static split (CpuThreads.For) every call waits for
// the slower thread, which on a loaded 2-vCPU machine is a descheduled one (1×16 MiniLM forwards:
// 30 splits each). Helpers spin briefly, then sleep on an event. Delegates are made once by the caller.
// Tests: tests/NanoMbpo.Bert.Tests/GemmKernelTests.cs (WorkShare runs every unit exactly once) and every
// parity test of the fused path.
namespace NanoMbpo.Bert.Cpu;

internal sealed class WorkShare
{
    [ThreadStatic] static WorkShare? current;
    /// <summary>The calling thread's instance (its own helpers): concurrent encoders never share a job.</summary>
    public static WorkShare Current => current ??= new WorkShare();

    Action<int, int>? rangeBody;
    int rangeCount, rangeGrain;
    readonly Action<int, int> rangeUnit;
    WorkShare() => rangeUnit = (u, _) => rangeBody!(u * rangeGrain, Math.Min(rangeCount, (u + 1) * rangeGrain));

    /// <summary>body(start, end) over [0, count) in units of <paramref name="grain"/> (as CpuThreads.For).</summary>
    public void For(int count, int grain, Action<int, int> body)
    {
        rangeBody = body; rangeCount = count; rangeGrain = Math.Max(1, grain);
        Run((count + rangeGrain - 1) / rangeGrain, rangeUnit);
    }

    long state;                 // generation << 32 | next unit
    int total, done;
    Action<int, int>? body;     // body(unit, of)
    readonly object gate = new();
    readonly AutoResetEvent wake = new(false);
    int sleepers;
    Thread[] helpers = [];

    /// <summary>Runs body(i, n) for i in [0, n) on the caller and the helpers; returns when all are done.</summary>
    public void Run(int n, Action<int, int> work)
    {
        int threads = CpuThreadsCount();
        if (n <= 0) return;
        if (threads <= 1 || n == 1)
        {
            for (int i = 0; i < n; i++) work(i, n);
            return;
        }
        EnsureHelpers(threads - 1);
        // Close (odd generation, no unit claimable), set the job up, open (even generation): a helper still
        // inside the previous job's Drain then fails its claim instead of running a unit of a half-set job.
        long g = Volatile.Read(ref state) >> 32;
        Interlocked.Exchange(ref state, ((g + 1) << 32) | 0x7FFFFFFF);
        body = work; total = n; done = 0;
        long gen = g + 2;
        Interlocked.Exchange(ref state, gen << 32);          // full fence: body/total/done are visible first
        if (Volatile.Read(ref sleepers) > 0) wake.Set();
        Drain(gen);
        var spin = new SpinWait();
        while (Volatile.Read(ref done) < n) spin.SpinOnce(-1);   // only units a helper has claimed remain
    }

    static int CpuThreadsCount() => NanoMbpo.Cpu.CpuThreads.Count;

    /// <summary>Claims and runs units of generation <paramref name="gen"/> until none are left.</summary>
    void Drain(long gen)
    {
        while (true)
        {
            long s = Volatile.Read(ref state);
            if (s >> 32 != gen) return;
            int i = (int)(s & 0xFFFFFFFF), n = total;
            if (i >= n) return;
            if (Interlocked.CompareExchange(ref state, s + 1, s) != s) continue;
            body!(i, n);
            Interlocked.Increment(ref done);
        }
    }

    void EnsureHelpers(int count)
    {
        if (helpers.Length >= count) return;
        lock (gate)
        {
            if (helpers.Length >= count) return;
            var list = helpers.ToList();
            while (list.Count < count)
            {
                var t = new Thread(HelperLoop) { IsBackground = true, Name = $"bert-workshare-{list.Count}" };
                t.Start();
                list.Add(t);
            }
            helpers = [.. list];
        }
    }

    void HelperLoop()
    {
        long seen = Volatile.Read(ref state) >> 32;
        while (true)
        {
            long gen = Volatile.Read(ref state) >> 32;
            if ((gen & 1) != 0) { Thread.SpinWait(20); continue; }   // a job being set up
            if (gen == seen)
            {
                var spin = new SpinWait();
                for (int k = 0; k < 2000 && (Volatile.Read(ref state) >> 32) == seen; k++) spin.SpinOnce(-1);
                if ((Volatile.Read(ref state) >> 32) == seen)
                {
                    Interlocked.Increment(ref sleepers);
                    if ((Volatile.Read(ref state) >> 32) == seen) wake.WaitOne(50);
                    Interlocked.Decrement(ref sleepers);
                }
                continue;
            }
            seen = gen;
            Drain(gen);
        }
    }
}
