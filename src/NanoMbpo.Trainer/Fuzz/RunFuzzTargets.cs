// Fuzz targets for the files an RL run folder holds and resume reads back (src/NanoMbpo.Rl/RunCheckpoint.cs):
// state.bin of every algorithm, replay buffers, metrics.csv and the Adam state files; plus the utterance
// encoder's cache records (src/NanoMbpo.Bert/UtteranceCacheFile.cs). Seeds come from real tiny runs. Joined
// to FuzzTargets.All; also the seller agent's run config.json (SellerRun.ReadConfig); tested by tests/NanoMbpo.Tests/Reliability/FuzzTests.cs.
using System.Text;
using NanoMbpo.Bert;
using NanoMbpo.IO;
using NanoMbpo.Optim;
using NanoMbpo.Rl;
using NanoMbpo.Rl.Envs;
using RlAgent = NanoMbpo.Rl.Agent;

namespace NanoMbpo.Trainer.Fuzz;

public static class RunFuzzTargets
{
    static bool IsRunError(Exception e) => e is InvalidDataException or SafeTensorsFormatException;

    public static IReadOnlyList<FuzzTarget> All =>
    [
        new("rl-state", "RunCheckpoint.ReadState: state.bin of sac, sac-discrete, dqn, reinforce and mbpo runs", () => Runs.Value.States, ReadState, IsRunError),
        new("rl-replay", "ReplayBuffer.Load (a run's replay buffer file)", ReplaySeeds, LoadReplay, IsRunError),
        new("rl-metrics", "RunCheckpoint.ReadMetricRows (metrics.csv read back on resume)", () => [Runs.Value.Metrics, Encoding.UTF8.GetBytes(MetricsHeader + "\n10,0,,,1,2,3,4,5,6,7,8\n20,1,-3.5,-2,1,2,3,4,5,6,7,8\n")], ReadMetrics, IsRunError),
        new("optimizer-state", "OptimizerState.Load (a run's .adam.safetensors)", OptimizerSeeds, LoadOptimizer, IsRunError),
        new("seller-config", "SellerRun.ReadConfig (a train run's config.json, read back by eval --policy RUN_DIR)", SellerConfigSeeds, ReadSellerConfig, e => e is InvalidDataException),
        new("utterance-cache", "UtteranceCacheFile.ReadRecords (the encoder's .v2.bin cache; never throws)", CacheSeeds, ReadCache, null),
    ];

    // ---- seller agent run folders -----------------------------------------------------------------------

    static IReadOnlyList<byte[]> SellerConfigSeeds() =>
    [
        Encoding.UTF8.GetBytes(Commands.SellerRun.ConfigJson("mbpo", 1, "reply-model", "all-MiniLM-L6-v2", Pooling.Cls, null, new NanoMbpo.Agent.SellerOptions())),
        Encoding.UTF8.GetBytes(Commands.SellerRun.ConfigJson("sac", 3, "task", "hashed-128", Pooling.Mean, "weights/x", NanoMbpo.Agent.SellerOptions.For(NanoMbpo.Agent.SellerMethod.Sac, 20))),
    ];

    static void ReadSellerConfig(byte[] bytes, string scratch)
    {
        File.WriteAllBytes(scratch, bytes);
        Commands.SellerRun.ReadConfig(scratch);
    }

    // ---- RL run folders -------------------------------------------------------------------------------

    static readonly string[] Algos = ["sac", "sac-discrete", "dqn", "reinforce", "mbpo"];

    /// <summary>Tiny agents of each algorithm (as the resume tests build them).</summary>
    static RlAgent Make(string algo) => algo switch
    {
        "sac" => new Sac(new Pendulum(), 3, new SacOptions { Hidden = [8], BatchSize = 8, LearningStarts = 20, BufferSize = 200 }),
        "sac-discrete" => new SacDiscrete(new CartPole(false), 3, new SacDiscreteOptions { Hidden = [8], BatchSize = 8, LearningStarts = 20, BufferSize = 200 }),
        "dqn" => new Dqn(new CartPole(false), 3, new DqnOptions { Hidden = [8], BatchSize = 8, LearningStarts = 20, BufferSize = 200, TrainFreq = 4, GradientSteps = 1 }),
        "reinforce" => new Reinforce(new CartPole(false), 3, new ReinforceOptions { Hidden = [8] }),
        "mbpo" => new Mbpo(new Pendulum(), 3, new MbpoOptions
        {
            InitialRandomSteps = 20, ModelTrainFreq = 20, RolloutBatch = 10, UpdatesPerStep = 1, MaxRolloutLength = 2,
            Model = new WorldModelOptions { Members = 3, Elites = 2, Hidden = 8, HiddenLayers = 1, WeightDecay = [1e-4, 1e-4], MaxEpochs = 1, BatchSize = 8 },
        }, new Sac(new Pendulum(), 3, new SacOptions { Hidden = [8], BatchSize = 8, BufferSize = 1 })),
        _ => throw new ArgumentException(algo),
    };

    sealed record RunSeeds(byte[][] States, byte[] Metrics);

    /// <summary>Checkpoints of tiny runs (state.bin per algorithm, the sac run's metrics.csv), made once.</summary>
    static readonly Lazy<RunSeeds> Runs = new(() =>
    {
        string root = Path.Combine(Path.GetTempPath(), $"nanombpo-fuzz-{Environment.ProcessId}", "runs");
        var states = new List<byte[]>();
        byte[] metrics = [];
        foreach (string algo in Algos)
        {
            string dir = Path.Combine(root, algo);
            RunLoop.Run(Make(algo), new RunOptions { Steps = 60, OutDir = dir, LogEvery = 10, EvalEvery = 30, EvalEpisodes = 1, CheckpointEvery = 60, ProgressSeconds = 0 }, TextWriter.Null);
            states.Add(File.ReadAllBytes(Path.Combine(dir, RunLoop.CheckpointDir, RunCheckpoint.StateName)));
            if (algo == "sac") metrics = File.ReadAllBytes(Path.Combine(dir, RunLoop.CsvName));
        }
        Directory.Delete(root, true);
        return new RunSeeds([.. states], metrics);
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>One agent per algorithm, reused by every input (a load overwrites what it reads). They are built
    /// on another thread: their preallocated buffers (MBPO's real buffer holds a million rows) are not the
    /// input's allocation, which the fuzz oracle measures on the input's thread.</summary>
    static readonly Lazy<Dictionary<string, RlAgent>> Agents = new(() =>
        Task.Run(() => Algos.ToDictionary(a => a, Make)).GetAwaiter().GetResult(), LazyThreadSafetyMode.ExecutionAndPublication);

    static readonly Lock Gate = new();

    static void ReadState(byte[] bytes, string scratch)
    {
        File.WriteAllBytes(scratch, bytes);
        string algo = "sac";
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            string a = r.ReadString();
            if (Algos.Contains(a)) algo = a;   // the agent the file claims; any other is refused as sac's
        }
        catch (Exception e) when (e is IOException or FormatException) { }
        var agent = Agents.Value[algo];
        lock (Gate) RunCheckpoint.ReadState(agent, scratch);
    }

    static readonly string MetricsHeader = "step,episodes,return_recent,eval_return," + string.Join(",", new Sac(new Pendulum(), 1, new SacOptions { Hidden = [1], BufferSize = 1, BatchSize = 1 }).MetricNames);

    static void ReadMetrics(byte[] bytes, string scratch)
    {
        File.WriteAllBytes(scratch, bytes);
        RunCheckpoint.ReadMetricRows(scratch, MetricsHeader, 30);
    }

    static IReadOnlyList<byte[]> ReplaySeeds()
    {
        string dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"nanombpo-fuzz-{Environment.ProcessId}", "replay")).FullName;
        var seeds = new List<byte[]>();
        foreach (int rows in new[] { 0, 7, 53 })   // empty, part-filled, wrapped around
        {
            var b = new ReplayBuffer(40, 3, 1);
            for (int i = 0; i < rows; i++) b.Add([i, -i, 0.5f], [i % 3], i * 0.25, [i + 1, -i - 1, 0.5f], i % 11 == 0);
            string path = Path.Combine(dir, $"seed{rows}.buffer");
            b.Save(path);
            seeds.Add(File.ReadAllBytes(path));
        }
        return seeds;
    }

    static void LoadReplay(byte[] bytes, string scratch)
    {
        File.WriteAllBytes(scratch, bytes);
        new ReplayBuffer(40, 3, 1).Load(scratch);
    }

    static IReadOnlyList<byte[]> OptimizerSeeds()
    {
        string dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"nanombpo-fuzz-{Environment.ProcessId}", "adam")).FullName;
        var seeds = new List<byte[]>();
        foreach (int steps in new[] { 0, 3 })
        {
            var store = FuzzTargets.CheckpointStore();
            var opt = new Adam(store, 1e-3);
            for (int s = 0; s < steps; s++) { store.Grad<float>().Fill(0.1f * (s + 1)); opt.Step(zeroGrad: true); }
            string path = Path.Combine(dir, $"seed{steps}.adam.safetensors");
            OptimizerState.Save(opt, path);
            seeds.Add(File.ReadAllBytes(path));
        }
        return seeds;
    }

    static void LoadOptimizer(byte[] bytes, string scratch)
    {
        File.WriteAllBytes(scratch, bytes);
        OptimizerState.Load(new Adam(FuzzTargets.CheckpointStore(), 1e-3), scratch);
    }

    // ---- utterance encoder cache ----------------------------------------------------------------------

    const int CacheHidden = 8;

    static IReadOnlyList<byte[]> CacheSeeds()
    {
        byte[] File(params string[] texts)
        {
            var ms = new MemoryStream();
            using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
                for (int i = 0; i < texts.Length; i++)
                    UtteranceCacheFile.WriteRecord(w, texts[i], Enumerable.Range(0, CacheHidden).Select(k => (float)(i - k) / 3).ToArray());
            return ms.ToArray();
        }
        var torn = File("one large pepperoni", "and a coke");
        return [File("i would like a large pizza", "", "pizza \u00e0 la carte \U0001F355"), File("hi"), torn[..^5]];
    }

    /// <summary>Loads the records from a file as the encoder does; the good prefix must lie inside the file,
    /// end on a record boundary that re-reads to the same records, and every vector must be H long.</summary>
    static void ReadCache(byte[] bytes, string scratch)
    {
        System.IO.File.WriteAllBytes(scratch, bytes);
        var cache = new Dictionary<string, float[]>(StringComparer.Ordinal);
        long good;
        using (var f = new FileStream(scratch, FileMode.Open, FileAccess.Read))
            good = UtteranceCacheFile.ReadRecords(f, CacheHidden, cache);
        if (good < 0 || good > bytes.Length) throw new InvalidOperationException($"good prefix {good} outside the {bytes.Length}-byte file");
        if (cache.Values.Any(v => v.Length != CacheHidden)) throw new InvalidOperationException("a vector of the wrong length");
        var again = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (UtteranceCacheFile.ReadRecords(new MemoryStream(bytes, 0, (int)good), CacheHidden, again) != good || again.Count != cache.Count)
            throw new InvalidOperationException("the good prefix does not re-read to the same records");
    }
}
