// CpuThreads: a persistent worker pool with deterministic fixed-partition parallel loops.
// Workers spin briefly after each job (so back-to-back MLP-sized GEMMs hand off in ~1 µs), then
// sleep on an event. Chunks are claimed from a counter, so the caller runs every chunk no worker has
// started (a preempted worker is not waited for; see Run). Tests: tests/NanoMbpo.Tests/Cpu/CpuThreadsTests.cs.
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace NanoMbpo.Cpu;

/// <summary>A unit of parallel work: chunk i of n is executed exactly once, on some pool thread.</summary>
internal abstract class PoolJob
{
    /// <summary>True when the pool runs the chunks on the caller and its workers, which claim them as
    /// they get to them (jobs may then use barriers that every chunk reaches: see CpuThreads.Run); false
    /// when the pool runs them one after another on the caller.</summary>
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

    /// <summary>Runs two independent actions at once, normally <paramref name="first"/> on the caller and
    /// <paramref name="second"/> on a worker; the caller runs second too when no worker has started it by
    /// then (serially, in that order, with one thread or when nested).
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
    /// thread count gives the same chunks. The caller thread runs chunk 0, and any chunk no worker has
    /// started by the time it is done.
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

    // Chunks are claimed, not assigned. A region used to post chunk w+1 to worker w and wait for every
    // worker; on a small shared machine (2 vCPUs, another process busy) a posted worker is often
    // preempted or still waking, and every region then waited a scheduler slice (~7 ms) for it whatever
    // its size: `bench sac --threads 2` ran at 2.3 updates/s against 27 on one thread. Now each region
    // has one claim counter; the caller and the posted workers take chunks from it, so once the caller
    // is done with its own chunk it runs every chunk no worker has started, and waits only for chunks a
    // running worker has already claimed. A worker that wakes late finds nothing left and goes back to
    // waiting, and is not waited for. Chunk i always covers the same range and chunks keep their own
    // partial results, so which thread ran a chunk never changes a result.
    //
    // The counter carries the region's generation and chunk count in one 64-bit word
    // (generation << 32 | chunks << 16 | next), so a claim is a single compare-exchange that can only
    // succeed for the current region: a worker still holding an old generation (it was posted for a
    // region that has since finished) fails its claim and never touches the job object, which is
    // reused (_forJob, _invokeJob, Sgemm's jobs) and already set up for the next region. The job and its
    // chunk count are read only after a successful claim, and the caller cannot finish (or start another
    // region) while a claimed chunk is unfinished, so they are the current region's.
    //
    // Jobs that meet at barriers (Sgemm's GemmJob with a shared packed B) stay correct: a thread claims
    // another chunk only after finishing one, and a barrier chunk finishes only when every chunk has
    // reached its last barrier, i.e. was already claimed by a running thread. Such a region therefore
    // still runs one chunk per thread and waits for a late worker (it cannot be split otherwise).
    // Per-thread scratch (ThreadScratch, GemmWorkspace) is safe too: a thread runs its chunks one
    // after another, never two at once.
    static long _state;                 // generation << 32 | chunk count << 16 | next unclaimed chunk
    static int _generation;
    static PoolJob? _current;           // the job of the open region; read only after a successful claim
    static int _done;                   // chunks of the open region finished
    static int _errorChunk;             // lowest chunk that threw (int.MaxValue: none)
    static Exception? _error;
    static readonly object ErrorGate = new();
    static SgemmIsa _isa;               // the caller's Sgemm.ForceIsa / ForcePack, set on workers for its chunks
    static int _forcePack;
    static long[] _chunkDone = [];      // per chunk: when it finished (tracing only)
    static bool[] _ranByCaller = [];    // per chunk: whether the caller ran it (tracing only)

    /// <summary>Test hook: called by a worker after it is woken for a region and before it claims any
    /// chunk (argument: the worker's 1-based index). Tests delay or block workers with it.</summary>
    internal static Action<int>? WorkerStartHook;

    /// <summary>Executes chunks 0..chunks-1 of job on the caller and the workers; returns when all are
    /// done. Falls back to running every chunk serially on the caller when nested or when another
    /// thread holds the pool.</summary>
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
            if (chunks > 0xFFFF) throw new ArgumentOutOfRangeException(nameof(chunks), chunks, "too many chunks.");
            job.Concurrent = true;
            bool trace = CpuThreadsTrace.Enabled;
            long start = trace ? Stopwatch.GetTimestamp() : 0;
            EnsureWorkers(chunks - 1);
            if (trace && _chunkDone.Length < chunks) { _chunkDone = new long[chunks]; _ranByCaller = new bool[chunks]; }
            int gen = unchecked(++_generation);
            _current = job; _done = 0; _errorChunk = int.MaxValue; _error = null;
            _isa = Sgemm.ForceIsa; _forcePack = Sgemm.ForcePack;
            // Full fence: the fields above are visible to whoever claims a chunk of this generation.
            Interlocked.Exchange(ref _state, ((long)gen << 32) | ((long)chunks << 16));
            var ws = _workers;
            for (int w = 0; w < chunks - 1; w++) ws[w].Post(gen);
            int ran = Drain(gen, callerThread: true);
            long callerDone = trace ? Stopwatch.GetTimestamp() : 0;
            if (Volatile.Read(ref _done) != chunks)
            {
                // Only chunks a running worker has claimed remain: spin, yielding the core now and then
                // in case that worker shares it with us.
                var sw = new SpinWait();
                while (Volatile.Read(ref _done) != chunks) sw.SpinOnce(sleep1Threshold: -1);
            }
            _current = null;
            if (trace)
            {
                int workerChunks = chunks - ran;
                Span<long> workerDone = stackalloc long[Math.Min(workerChunks, 64)];
                for (int i = 0, k = 0; i < chunks && k < workerDone.Length; i++)
                    if (!_ranByCaller[i]) workerDone[k++] = _chunkDone[i];
                // Chunks beyond the first that the caller ran are ones no worker had started.
                CpuThreadsTrace.Record(job.TraceName, start, callerDone, workerDone, stolen: Math.Max(0, ran - 1));
            }
            var first = _error;
            _error = null;
            if (first != null) ExceptionDispatchInfo.Capture(first).Throw();
        }
        finally { Monitor.Exit(Gate); }
    }

    /// <summary>Claims and runs chunks of generation <paramref name="gen"/> until none is left; returns
    /// how many this thread ran.</summary>
    static int Drain(int gen, bool callerThread)
    {
        int ran = 0;
        while (true)
        {
            long s = Volatile.Read(ref _state);
            if ((int)(s >> 32) != gen) return ran;
            int next = (int)(s & 0xFFFF), count = (int)((s >> 16) & 0xFFFF);
            if (next >= count) return ran;
            if (Interlocked.CompareExchange(ref _state, s + 1, s) != s) continue;
            var job = _current!;   // stable: the region cannot end while this claimed chunk is unfinished
            bool wasInside = _insideJob;
            _insideJob = true;     // nested parallel loops inside a chunk run serially
            // A chunk sees the caller's kernel choice (Compute.With(isa: ...)) on whichever thread it runs,
            // so a GEMM inside an Invoke or For body gives the same bits on the caller and on a worker.
            var (isa, pack) = (Sgemm.ForceIsa, Sgemm.ForcePack);
            if (!callerThread) { Sgemm.ForceIsa = _isa; Sgemm.ForcePack = _forcePack; }
            try { job.Execute(next, count); }
            catch (Exception ex)
            {
                lock (ErrorGate)   // not Gate: the caller holds that for the whole region
                    if (next < _errorChunk) { _errorChunk = next; _error = ex; }
            }
            finally { _insideJob = wasInside; Sgemm.ForceIsa = isa; Sgemm.ForcePack = pack; }
            if (CpuThreadsTrace.Enabled && next < _chunkDone.Length)
            {
                _chunkDone[next] = Stopwatch.GetTimestamp();
                _ranByCaller[next] = callerThread;
            }
            ran++;
            Interlocked.Increment(ref _done);   // full fence: the chunk's writes and its error are visible
        }
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
        readonly int _index;
        int _posted;      // generation of the last region posted to this worker
        int _sleeping;

        internal Worker(int index)
        {
            _index = index;
            var t = new Thread(Loop) { IsBackground = true, Name = $"NanoMbpo.Cpu worker {index}" };
            t.Start();
        }

        internal void Post(int generation)
        {
            Interlocked.Exchange(ref _posted, generation); // full fence before reading _sleeping
            if (Volatile.Read(ref _sleeping) != 0) _wake.Set();
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
                Volatile.Read(ref WorkerStartHook)?.Invoke(_index);
                // The region may be long finished (then the claim fails and nothing runs).
                Drain(seen, callerThread: false);
            }
        }
    }
}
