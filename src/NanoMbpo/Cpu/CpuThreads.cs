// CpuThreads: a persistent worker pool with deterministic fixed-partition parallel loops.
// Workers spin briefly after each job (so back-to-back MLP-sized GEMMs hand off in ~1 µs), then
// sleep on an event. The caller always runs chunk 0. Tests: tests/NanoMbpo.Tests/Cpu/CpuThreadsTests.cs.
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace NanoMbpo.Cpu;

/// <summary>A unit of parallel work: chunk i of n is executed exactly once, on some pool thread.</summary>
internal abstract class PoolJob
{
    /// <summary>True while the chunks run on distinct threads at once (jobs may then use barriers);
    /// false when the pool runs them one after another on the caller.</summary>
    internal bool Concurrent;
    internal abstract void Execute(int chunk, int chunkCount);
    /// <summary>The row this job's regions fill in the NANOMBPO_TRACE_THREADS table.</summary>
    internal virtual string TraceName => GetType().Name;
}

public static class CpuThreads
{
    static int _count = Math.Max(1, Environment.ProcessorCount);
    static readonly object Gate = new();
    static Worker[] _workers = [];
    [ThreadStatic] static bool _insideJob;
    [ThreadStatic] static ForJob? _forJob;

    /// <summary>Process-wide default thread count (the caller included), used where no Compute scope
    /// sets one; command-line entry points set it once. Default: ProcessorCount.</summary>
    public static int DefaultCount
    {
        get => _count;
        set
        {
            if (value < 1 || value > 1024)
                throw new ArgumentOutOfRangeException(nameof(value), value, "CpuThreads.Count must be in [1, 1024].");
            _count = value;
        }
    }

    /// <summary>Threads parallel loops started on this thread use: the Compute scope's (Compute.With),
    /// else DefaultCount. Setting it sets the process default (as DefaultCount).</summary>
    public static int Count
    {
        get => Compute.Threads;
        set => DefaultCount = value;
    }

    /// <summary>Threads a parallel loop started here would really get: 1 inside a pool job (nested
    /// loops run serially), else Count. Kernels size their split by it, so a GEMM nested in a job
    /// runs as one chunk instead of as several chunks one after another.</summary>
    internal static int Available => _insideJob ? 1 : Count;

    /// <summary>Runs two independent actions at once, <paramref name="first"/> on the caller and
    /// <paramref name="second"/> on a worker (serially, in that order, with one thread or when nested).
    /// They must not write to the same memory; which thread runs which never changes the result.</summary>
    public static void Invoke(Action first, Action second)
    {
        ArgumentNullException.ThrowIfNull(first); ArgumentNullException.ThrowIfNull(second);
        if (Count < 2) { first(); second(); return; }
        var job = _invokeJob ??= new InvokeJob();
        if (job.First != null) job = new InvokeJob(); // nested inside another Invoke on this thread
        job.First = first; job.Second = second;
        try { Run(job, 2); }
        finally { job.First = job.Second = null; }
    }

    [ThreadStatic] static InvokeJob? _invokeJob;

    sealed class InvokeJob : PoolJob
    {
        internal Action? First, Second;
        internal override string TraceName => $"Invoke {First?.Method.Name} | {Second?.Method.Name}";
        internal override void Execute(int chunk, int chunkCount) => (chunk == 0 ? First : Second)!();
    }

    /// <summary>How long an idle worker spins before sleeping (microseconds).</summary>
    internal static int SpinMicroseconds { get; set; } = 200;

    /// <summary>
    /// Runs body over [0,n) split into at most Count contiguous chunks of at least grainSize items
    /// (fewer chunks when n is small). The split depends only on n, grainSize and Count, so the same
    /// thread count gives the same chunks. The caller thread runs chunk 0.
    /// </summary>
    public static void For(int n, int grainSize, Action<int, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be >= 0.");
        if (grainSize < 1) throw new ArgumentOutOfRangeException(nameof(grainSize), grainSize, "grainSize must be >= 1.");
        if (n == 0) return;
        int chunks = (int)Math.Min(Count, ((long)n + grainSize - 1) / grainSize);
        if (chunks <= 1) { body(0, n); return; }
        var job = _forJob ??= new ForJob();
        if (job.Body != null) job = new ForJob(); // nested inside another For on this thread
        job.N = n; job.Body = body;
        try { Run(job, chunks); }
        finally { job.Body = null; }
    }

    sealed class ForJob : PoolJob
    {
        internal int N;
        internal Action<int, int>? Body;
        internal override string TraceName => $"For {Body?.Method.Name} n={N}";
        internal override void Execute(int chunk, int chunkCount)
        {
            int s = (int)((long)N * chunk / chunkCount), e = (int)((long)N * (chunk + 1) / chunkCount);
            if (e > s) Body!(s, e);
        }
    }

    /// <summary>Executes chunks 0..chunks-1 of job; chunk 0 on the caller. Falls back to running
    /// every chunk serially on the caller when nested or when another thread holds the pool.</summary>
    internal static void Run(PoolJob job, int chunks)
    {
        if (chunks <= 1 || _insideJob || !Monitor.TryEnter(Gate))
        {
            job.Concurrent = false;
            for (int i = 0; i < chunks; i++) job.Execute(i, chunks);
            return;
        }
        try
        {
            job.Concurrent = true;
            bool trace = CpuThreadsTrace.Enabled;
            long start = trace ? Stopwatch.GetTimestamp() : 0;
            EnsureWorkers(chunks - 1);
            var ws = _workers;
            for (int w = 0; w < chunks - 1; w++) ws[w].Post(job, w + 1, chunks);
            Exception? first = null;
            _insideJob = true;
            try { job.Execute(0, chunks); }
            catch (Exception ex) { first = ex; }
            finally { _insideJob = false; }
            long callerDone = trace ? Stopwatch.GetTimestamp() : 0;
            Span<long> workerDone = trace ? stackalloc long[Math.Min(chunks - 1, 64)] : default;
            for (int w = 0; w < chunks - 1; w++)
            {
                var ex = ws[w].WaitDone();
                first ??= ex;
                if (trace && w < workerDone.Length) workerDone[w] = ws[w].DoneAt;
            }
            if (trace) CpuThreadsTrace.Record(job.TraceName, start, callerDone, workerDone);
            if (first != null) ExceptionDispatchInfo.Capture(first).Throw();
        }
        finally { Monitor.Exit(Gate); }
    }

    static void EnsureWorkers(int needed)
    {
        if (_workers.Length >= needed) return;
        var ws = new Worker[needed];
        Array.Copy(_workers, ws, _workers.Length);
        for (int i = _workers.Length; i < needed; i++) ws[i] = new Worker(i + 1);
        _workers = ws;
    }

    sealed class Worker
    {
        readonly ManualResetEventSlim _wake = new(false);
        PoolJob? _job;
        int _chunk, _chunkCount;
        int _posted;      // generation posted by the caller
        int _finished;    // generation the worker completed
        int _sleeping;
        internal long DoneAt;   // when the last job finished (read only while tracing)
        Exception? _error;

        internal Worker(int index)
        {
            var t = new Thread(Loop) { IsBackground = true, Name = $"NanoMbpo.Cpu worker {index}" };
            t.Start();
        }

        internal void Post(PoolJob job, int chunk, int chunkCount)
        {
            _job = job; _chunk = chunk; _chunkCount = chunkCount; _error = null;
            Interlocked.Increment(ref _posted); // full fence: publishes the fields above
            if (Volatile.Read(ref _sleeping) != 0) _wake.Set();
        }

        internal Exception? WaitDone()
        {
            int target = Volatile.Read(ref _posted);
            var sw = new SpinWait();
            while (Volatile.Read(ref _finished) != target) sw.SpinOnce(sleep1Threshold: -1);
            var e = _error; _job = null; _error = null;
            return e;
        }

        void Loop()
        {
            _insideJob = true; // nested parallel loops inside a job run serially
            int seen = 0;
            long spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
            while (true)
            {
                long start = Stopwatch.GetTimestamp();
                int spins = 0;
                while (Volatile.Read(ref _posted) == seen)
                {
                    if ((++spins & 63) != 0) { Thread.SpinWait(4); continue; }
                    if (Stopwatch.GetTimestamp() - start < spinTicks) continue;
                    _wake.Reset();
                    Interlocked.Exchange(ref _sleeping, 1); // full fence before re-checking
                    if (Volatile.Read(ref _posted) == seen) _wake.Wait();
                    Volatile.Write(ref _sleeping, 0);
                    start = Stopwatch.GetTimestamp();
                }
                seen = Volatile.Read(ref _posted);
                try { _job!.Execute(_chunk, _chunkCount); }
                catch (Exception ex) { _error = ex; }
                if (CpuThreadsTrace.Enabled) DoneAt = Stopwatch.GetTimestamp();
                Volatile.Write(ref _finished, seen);
            }
        }
    }
}
