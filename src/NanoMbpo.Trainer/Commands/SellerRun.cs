// Shared by `train` and `compare`: builds the utterance table over the BERT encoder service (disk
// cached beside the weights), the real environment with the chosen reward, runs a seller method on its
// budget of real dialogs and writes a run directory: config.json, metrics.csv (one row per evaluation),
// PNG learning curves against real dialogs (expert and random as lines), the checkpoint, summary.json.
// Tested by tests/NanoMbpo.Tests/Agent/TrainCommandTests.cs.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NanoMbpo.Agent;
using NanoMbpo.Bert;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Rewards;
using NanoMbpo.IO;

namespace NanoMbpo.Trainer.Commands;

internal sealed record SellerRunSpec(SellerOptions Options, ulong Seed, string OutDir, string? BertDir, Pooling Pooling,
    Func<int, IRewardModel> Reward, string RewardName, IReadOnlyList<PizzaRecord>? Goals, int FinalEvalEpisodes, string? WarmStart = null, Device? Device = null);

internal sealed record SellerRunResult(ISellerAgent Agent, EvalReport Final, double Seconds);

internal static class SellerRun
{
    /// <summary>The learned reply reward for a BERT checkpoint: loaded from DIR/reply-model, or trained there
    /// once (as the paper's LLM judge is prepared before the agent learns) when absent.</summary>
    public static ReplyRewardModel ReplyModel(string? bertDir, string? modelDir, Action<string> log)
    {
        string dir = BertCommon.Resolve(bertDir);
        var ckpt = Checkpoint(dir);
        var embedder = new BertTextEmbedder(ckpt, Path.Combine(dir, "reply-model-cache"));
        string md = modelDir ?? Path.Combine(dir, "reply-model");
        string cfg = Path.Combine(md, ReplyRewardModel.ConfigFile);
        // the default model is retrained when absent, written in an older format (v1 read the reply alone) or trained
        // on data the current simulator no longer produces (its recipe's fingerprint differs)
        string? saved = modelDir == null && File.Exists(cfg) ? File.ReadAllText(cfg) : null;
        string? stale = modelDir != null ? null
            : saved == null ? "none yet"
            : !saved.Contains(ReplyRewardModel.FormatName, StringComparison.Ordinal) ? "an older format"
            : !saved.Contains("training_data_sha256", StringComparison.Ordinal) ? "written before recipe fingerprints"
            : !saved.Contains(ReplyModelTrainer.Fingerprint(new ReplyModelOptions()), StringComparison.Ordinal) ? "trained on other data than this simulator's"
            : embedder.CacheDiscarded ? "its embeddings came from another build, whose vectors differ in the last bits"
            : null;
        if (stale != null)
        {
            log($"reply reward: training the reply model once into {md} ({stale}; nanombpo reply-model does the same)");
            var r = ReplyModelTrainer.Train(embedder, new ReplyModelOptions());
            r.Model.Save(md);
        }
        var m = ReplyRewardModel.Load(md, embedder);
        log(FormattableString.Invariant($"reply reward: {md} (held-out accuracy {m.Config.HeldOutAccuracy:P1})"));
        return m;
    }

    static readonly Dictionary<string, BertCheckpoint> s_checkpoints = [];
    static BertCheckpoint Checkpoint(string dir)
    {
        lock (s_checkpoints)
        {
            if (!s_checkpoints.TryGetValue(dir, out var c)) s_checkpoints[dir] = c = BertCheckpoint.Load(dir);
            return c;
        }
    }

    static readonly Dictionary<(string, Pooling), BertTextEmbedder> s_embedders = [];

    /// <summary>A fresh utterance table over the BERT service: [CLS] or mean pooling, cached on disk beside the
    /// weights. The service (and its cache file) is shared by every table of the process.</summary>
    public static UtteranceTable Table(string? bertDir, Pooling pooling, Action<string> log)
    {
        string dir = BertCommon.Resolve(bertDir);
        lock (s_embedders)
        {
            if (!s_embedders.TryGetValue((dir, pooling), out var e))
            {
                var ckpt = Checkpoint(dir);
                s_embedders[(dir, pooling)] = e = new BertTextEmbedder(ckpt, Path.Combine(dir, "utterance-cache"), pooling, maxLength: 64);
                if (e.CacheDiscarded) log("utterances: the cache was written by another build (its vectors differ in the last bits); it is rebuilt");
                log($"utterances: {ckpt.Config.NumHiddenLayers}-layer BERT ({ckpt.Config.HiddenSize}) from {dir}, {pooling} pooling, cached in utterance-cache");
            }
            return new UtteranceTable(e, Path.GetFileName(dir.TrimEnd('/', '\\')));
        }
    }

    public static SellerRunResult Run(SellerRunSpec spec, UtteranceTable table, Action<string> log)
    {
        var o = spec.Options;
        Directory.CreateDirectory(spec.OutDir);
        string method = SellerMethods.Name(o.Method);
        AtomicFile.WriteAllText(Path.Combine(spec.OutDir, "config.json"), ConfigJson(method, spec.Seed, spec.RewardName, table.Name, spec.Pooling, spec.BertDir, o, spec.WarmStart, spec.Device?.Name ?? "cpu"));
        var corpus = spec.WarmStart is { } ws ? NanoMbpo.Dialog.Corpus.TaskmasterReader.ReadFile(ws) : null;
        var agent = SellerMethods.Create(table, o, spec.Seed, () => new KinPizzaEnv(reward: spec.Reward(o.MaxTurns), goals: spec.Goals, maxTurns: o.MaxTurns), spec.Goals,
            corpus == null ? 0 : WarmStart.CountTurns(corpus));
        if (spec.Device is { IsCpu: false } dev)
        {
            var onDevice = (MbpoAgent)agent;   // train refuses --device for the other methods before anything is written
            onDevice.Agent.MoveTo(dev);
            string nets = onDevice.Agent.Model != null ? "critics, dynamics head and world model" : "critics and dynamics head";
            log($"device: the latent encoder, actor, {nets} on {dev.Name}; utterance embeddings, buffers and rollouts on the host");
        }
        if (corpus != null)
        {
            if (agent is not MbpoAgent mb) throw new ArgumentException($"--warm-start: only mbpo, sac and dyna take a warm start; got --method {method}");
            var ws0 = Stopwatch.StartNew();
            var st = WarmStart.Load(mb.Agent, corpus, spec.Reward(o.MaxTurns), spec.WarmStart!);
            log(FormattableString.Invariant($"warm start: {st.Dialogs} corpus dialogs ({st.Turns} seller turns, behaviour success {st.Success:P0}) in the real buffer, world model fitted, {o.WarmStartUpdates} SAC steps on them, {ws0.Elapsed.TotalSeconds:F1} s; they are not counted in the {o.Dialogs} online dialogs"));
        }
        var csv = new StringBuilder("dialogs,turns,success,return,avg_turns,seconds," + string.Join(",", agent.CsvMetrics) + "\n");
        var clock = Stopwatch.StartNew();
        agent.Train(log, p =>
        {
            string M(string k) => agent.Metrics.TryGetValue(k, out var v) ? v.ToString("G6", CultureInfo.InvariantCulture) : "";
            csv.Append(FormattableString.Invariant($"{p.Dialogs},{p.Turns},{p.Success},{p.Return},{p.AvgTurns},{p.Seconds:F1},"))
               .Append(string.Join(",", agent.CsvMetrics.Select(M))).Append('\n');
            AtomicFile.WriteAllText(Path.Combine(spec.OutDir, "metrics.csv"), csv.ToString());
            agent.Save(Path.Combine(spec.OutDir, "checkpoint"));
        });
        double seconds = clock.Elapsed.TotalSeconds;
        log("profile: " + string.Join(", ", agent.Profile.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:F1} s"))) + FormattableString.Invariant($"; {agent.DialogsDone / seconds:F2} real dialogs/s"));
        var final = Evaluation.Run(agent.Policy(), spec.FinalEvalEpisodes, spec.Seed ^ 0xF17A1UL, spec.Goals);
        return new SellerRunResult(agent, final, seconds);
    }

    /// <summary>A run directory's config.json text.</summary>
    public static string ConfigJson(string method, ulong seed, string reward, string embedder, Pooling pooling, string? bert, SellerOptions o, string? warmStart = null, string device = "cpu") =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["method"] = method, ["seed"] = seed, ["dialogs"] = o.Dialogs, ["reward"] = reward,
            ["embedder"] = embedder, ["pooling"] = pooling.ToString().ToLowerInvariant(), ["bert"] = bert,
            ["threads"] = NanoMbpo.Cpu.CpuThreads.Count, ["warm_start"] = warmStart, ["device"] = device, ["options"] = JsonSerializer.SerializeToElement(o),
        }, new JsonSerializerOptions { WriteIndented = true });

    internal sealed record RunConfig(string Method, ulong Seed, string Embedder, string? Bert, Pooling Pooling, SellerOptions Options);

    /// <summary>Reads and validates a run's config.json; anything wrong is an InvalidDataException naming the file and field.</summary>
    public static RunConfig ReadConfig(string cfgPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(cfgPath), new JsonDocumentOptions { MaxDepth = 64 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{cfgPath}: expected a JSON object");
            string Str(string k) => root.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new InvalidDataException($"{cfgPath}: field '{k}' is missing or not a string");
            if (!root.TryGetProperty("options", out var oj) || oj.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{cfgPath}: field 'options' is missing or not an object");
            var o = oj.Deserialize<SellerOptions>() ?? throw new InvalidDataException($"{cfgPath}: field 'options' is null");
            ulong seed = root.TryGetProperty("seed", out var sj) && sj.ValueKind == JsonValueKind.Number && sj.TryGetUInt64(out var sv) ? sv : throw new InvalidDataException($"{cfgPath}: field 'seed' is missing or not an unsigned integer");
            string method = Str("method"), embedder = Str("embedder"), pool = Str("pooling");
            if (!SellerMethods.Names.Contains(method)) throw new InvalidDataException($"{cfgPath}: field 'method' is '{method}', expected one of {string.Join(", ", SellerMethods.Names)}");
            if (o.Method != SellerMethods.Parse(method)) throw new InvalidDataException($"{cfgPath}: field 'method' is '{method}' but options.Method is {o.Method}");
            if (pool is not ("cls" or "mean")) throw new InvalidDataException($"{cfgPath}: field 'pooling' is '{pool}', expected cls or mean");
            if (embedder.StartsWith("hashed-", StringComparison.Ordinal) && !(int.TryParse(embedder["hashed-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int hd) && hd is >= 64 and <= 65536))
                throw new InvalidDataException($"{cfgPath}: field 'embedder' is '{embedder}', expected hashed-N with 64 <= N <= 65536 or a BERT name");
            string? bert = root.TryGetProperty("bert", out var bj) && bj.ValueKind == JsonValueKind.String ? bj.GetString() : null;
            try { o.Validate(); CheckNetworks(o.Sac); o.Dqn.Validate(); o.Reinforce.Validate(); o.Mpc.Validate(); CheckPlanner(o.Mpc); }
            catch (ArgumentException e) { throw new InvalidDataException($"{cfgPath}: field 'options': {e.Message}"); }
            return new RunConfig(method, seed, embedder, bert, pool == "mean" ? Pooling.Mean : Pooling.Cls, o);
        }
        catch (JsonException e) { throw new InvalidDataException($"{cfgPath}: not valid JSON for a run config ({e.Message})"); }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or FormatException or OverflowException)
        { throw new InvalidDataException($"{cfgPath}: field 'options' cannot be read ({e.Message})"); }
    }

    /// <summary>Network sizes a saved config may ask for (bounds well past any real run, so a damaged file cannot ask for gigabytes).</summary>
    static void CheckNetworks(LatentSacOptions s)
    {
        var l = s.Latent;
        static void In(string name, long v, long lo, long hi) { if (v < lo || v > hi) throw new ArgumentOutOfRangeException(name, v, $"expected {lo}..{hi}"); }
        In("Sac.Latent.MaxSeqLen", l.MaxSeqLen, 1, 512); In("Sac.Latent.DModel", l.DModel, 1, 4096); In("Sac.Latent.Heads", l.Heads, 1, 64);
        In("Sac.Latent.Layers", l.Layers, 1, 48); In("Sac.Latent.FeedForward", l.FeedForward, 1, 16384); In("Sac.Latent.LatentDim", l.LatentDim, 1, 4096);
        if (l.DModel % l.Heads != 0) throw new ArgumentOutOfRangeException("Sac.Latent.Heads", l.Heads, $"expected a divisor of DModel ({l.DModel})");
        In("Sac.BatchSize", s.BatchSize, 1, 1 << 16); In("Sac.ActionTextDim", s.ActionTextDim, 0, 4096);
        if (s.Hidden is null || s.Hidden.Length is < 1 or > 16) throw new ArgumentOutOfRangeException("Sac.Hidden", s.Hidden?.Length ?? 0, "expected 1..16 layers");
        foreach (var h in s.Hidden) In("Sac.Hidden", h, 1, 16384);
    }

    /// <summary>Planner sizes a saved config may ask for (per-turn work is Horizon·Candidates·rounds model rows).</summary>
    static void CheckPlanner(LatentMpcOptions m)
    {
        if (m.Horizon > 64) throw new ArgumentOutOfRangeException("Mpc.Horizon", m.Horizon, "expected 1..64");
        if (m.Candidates > 1 << 16) throw new ArgumentOutOfRangeException("Mpc.Candidates", m.Candidates, $"expected 1..{1 << 16}");
        if (m.CemIterations > 100) throw new ArgumentOutOfRangeException("Mpc.CemIterations", m.CemIterations, "expected 1..100");
    }

    /// <summary>A trained run directory's greedy policy (config.json + checkpoint/), for `eval --policy RUN_DIR`.</summary>
    public static IDialogPolicy LoadPolicy(string runDir, Action<string> log)
    {
        string cfgPath = Path.Combine(runDir, "config.json");
        if (!File.Exists(cfgPath)) throw new FileNotFoundException($"--policy: '{runDir}' is not a train run directory (no config.json); expected random, rule or a run directory.", cfgPath);
        var (method, seed, embedder, bert, pooling, o) = ReadConfig(cfgPath);
        var table = embedder.StartsWith("hashed-", StringComparison.Ordinal)
            ? new UtteranceTable(new HashedUtteranceEmbedder(int.Parse(embedder["hashed-".Length..], CultureInfo.InvariantCulture)))
            : Table(bert, pooling, log);
        var agent = SellerMethods.Create(table, o, seed, () => throw new InvalidOperationException("a loaded policy does not train"));
        agent.Load(Path.Combine(runDir, "checkpoint"));
        return agent.Policy();
    }

    /// <summary>Success and return against real dialogs, with the expert's and random's levels as lines.</summary>
    public static void Plot(string dir, string title, IReadOnlyList<(string Name, IReadOnlyList<CurvePoint> Curve)> runs, EvalReport expert, EvalReport random)
    {
        Plots.Learning(Path.Combine(dir, "success.png"), title + ": greedy success rate", "success rate", runs.Select(r => (r.Name, r.Curve.Select(c => ((double)c.Dialogs, c.Success)).ToArray())).ToList(),
            [("expert", expert.Success.Mean), ("random", random.Success.Mean)]);
        Plots.Learning(Path.Combine(dir, "return.png"), title + ": return (task reward)", "return", runs.Select(r => (r.Name, r.Curve.Select(c => ((double)c.Dialogs, c.Return)).ToArray())).ToList(),
            [("expert", expert.Return.Mean), ("random", random.Return.Mean)]);
    }

    public static object Row(EvalReport e, int dialogs, double seconds) => new
    {
        policy = e.Policy, episodes = e.Episodes, success_rate = e.Success.Mean, success_ci_low = e.Success.Low, success_ci_high = e.Success.High,
        avg_turns = e.Turns.Mean, avg_return = e.Return.Mean, slot_f1 = e.SlotF1.Mean, hangup_rate = e.HangUp.Mean, real_dialogs = dialogs, wall_seconds = seconds,
    };

    public static void PrintTable(IEnumerable<(EvalReport E, int Dialogs, double Seconds)> rows)
    {
        Console.WriteLine($"{"policy",-12} {"success",8} {"95% CI",17} {"turns",6} {"return",8} {"real dialogs",12} {"wall",8}");
        foreach (var (e, n, s) in rows)
            Console.WriteLine(FormattableString.Invariant($"{e.Policy,-12} {e.Success.Mean,8:P1} {$"[{e.Success.Low:P1}, {e.Success.High:P1}]",17} {e.Turns.Mean,6:F1} {e.Return.Mean,8:F2} {n,12} {s,7:F0}s"));
    }
}
