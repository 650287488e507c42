// The seller agent: the paper's latent-space MBPO with discrete SAC on KinPizza, as one method in banner
// sections (Train). Every real turn:
//   1. the policy (uniform random for the first dialogs) answers the customer in the simulator; the
//      turn is stored as windows of utterance ids (UtteranceTable) with the reward the env's
//      IRewardModel gave;
//   2. every ModelTrainEvery turns: the latent ensemble world model (the RL core's WorldModel) is
//      refitted on the recent real turns, encoded by the EMA target encoder: inputs [z, 0] and φ(a),
//      targets [r, Δz, done]; then k-step rollouts of the policy branch from real latents into the
//      model buffer, each step from a random elite, k on MBPO's linear schedule;
//   3. G discrete-SAC steps on batches of real turns (re-encoded now) mixed with model transitions.
// SAC (model-free) is the same loop with no model and all-real batches; Dyna is k = 1.
// Tested by tests/NanoMbpo.Agent.Tests/SellerTests.cs; `nanombpo train` and `nanombpo compare` run it.
using System.Diagnostics;
using NanoMbpo.Dialog;
using NanoMbpo.Rl;

namespace NanoMbpo.Agent;

/// <summary>One point of the learning curve: the greedy policy's evaluation after so many real dialogs.</summary>
public sealed record CurvePoint(int Dialogs, long Turns, double Success, double Return, double AvgTurns, double Seconds);

public sealed class SellerMbpo
{
    public SellerOptions Options { get; }
    public ulong Seed { get; }
    public LatentSac Learner { get; }
    public WorldModel? Model { get; }
    public DialogReplay Real { get; }
    public LatentReplay ModelBuffer { get; }
    public UtteranceTable Table { get; }
    public List<CurvePoint> Curve { get; } = [];
    public SortedDictionary<string, double> Metrics => Learner.Metrics;
    public long Turns { get; private set; }
    public int DialogsDone { get; private set; }
    /// <summary>The evaluation whose policy KeepBest restored at the end (null while training or without KeepBest).</summary>
    public CurvePoint? Best { get; private set; }
    float[]? bestEncoder, bestActor;
    readonly Rng actRng, sampleRng, modelRng;
    /// <summary>Seconds spent per part of the loop (the profile `train` prints and RESULTS.md cites).</summary>
    public SortedDictionary<string, double> Profile { get; } = new(StringComparer.Ordinal);
    readonly Stopwatch part = new();
    void Lap(string name) { Profile[name] = Profile.GetValueOrDefault(name) + part.Elapsed.TotalSeconds; part.Restart(); }
    readonly IReadOnlyList<PizzaRecord>? goals;
    readonly Func<KinPizzaEnv> makeEnv;

    /// <summary>Corpus dialogs a warm start put into the real buffer (counted apart from the online budget).</summary>
    public int WarmStartDialogs { get; private set; }

    /// <param name="makeEnv">Builds the real environment (its reward model and goals); called once for training.</param>
    /// <param name="reserveTurns">Extra real-buffer rows for a warm start's corpus turns.</param>
    public SellerMbpo(UtteranceTable table, SellerOptions options, ulong seed, Func<KinPizzaEnv> makeEnv, IReadOnlyList<PizzaRecord>? goals = null,
        int reserveTurns = 0)
    {
        options.Validate();
        Options = options; Seed = seed; Table = table; this.makeEnv = makeEnv; this.goals = goals;
        Learner = new LatentSac(table, SellerActions.All.Select(a => a.Template).ToList(), seed, options.Sac);
        int z = Learner.Z;
        if (options.UsesModel) Model = new WorldModel(z + 1, Learner.ActionFeatureDim, new Rng(seed).Fork(50), options.Model);
        Real = new DialogReplay(Math.Max(1000, options.Dialogs * options.MaxTurns) + reserveTurns, Learner.L);
        ModelBuffer = new LatentReplay(Math.Max(1, options.RolloutBatch * options.MaxRolloutLength * options.RetainRounds), z);
        actRng = new Rng(seed).Fork(51); sampleRng = new Rng(seed).Fork(52); modelRng = new Rng(seed).Fork(53);
    }

    /// <summary>Moves the learner's networks and the world model to <paramref name="device"/> (call before Train or a
    /// warm start). The utterance table, buffers and rollouts stay on the host; DeviceTests.cs checks the updates
    /// against the CPU's on ILGPU's CPU accelerator.</summary>
    public void MoveTo(Device device) { Learner.MoveTo(device); Model?.MoveTo(device); }

    /// <summary>The rollout length after <paramref name="dialogs"/> real dialogs (MBPO's linear schedule).</summary>
    public int RolloutLength(int dialogs)
    {
        var o = Options;
        double f = Math.Clamp((double)(dialogs - o.RolloutScheduleStart) / Math.Max(1, o.RolloutScheduleEnd - o.RolloutScheduleStart), 0, 1);
        return (int)Math.Round(o.MinRolloutLength + f * (o.MaxRolloutLength - o.MinRolloutLength));
    }

    /// <summary>Runs the whole budget of real dialogs. <paramref name="onEval"/> sees each curve point
    /// (the trainer writes metrics and a checkpoint there).</summary>
    public void Train(Action<string>? log = null, Action<CurvePoint>? onEval = null)
    {
        var o = Options;
        var env = makeEnv();
        int L = Learner.L;
        var w = new int[L]; var w2 = new int[L];
        var clock = Stopwatch.StartNew();
        for (int d = DialogsDone; d < o.Dialogs; d++)
        {
            part.Restart();
            env.Reset(DialogRng.Derive(Seed ^ 0x7EA1D1A1UL, (ulong)d));
            Table.Window(env.History, w);
            Lap("simulator + BERT");
            bool done = false;
            while (!done)
            {
                // ==== 1. real turn ====================================================================
                double eps = o.Epsilon(d);   // no draw at ε = 0, so runs without ε-mixing keep their trajectories
                bool uniform = d < o.RandomDialogs || (eps > 0 && actRng.NextDouble() < eps);
                int a = uniform ? actRng.NextInt(Learner.Actions) : Learner.Act(w, greedy: false, actRng);
                Lap("act");
                var res = env.Step(a);
                Table.Window(env.History, w2);
                Lap("simulator + BERT");
                Real.Add(w, a, res.Reward, w2, res.Done);
                done = res.Done;
                if (done && res.Info.Success) onlineSuccesses++;
                (w, w2) = (w2, w);
                Turns++;
                if (d < o.RandomDialogs) continue;
                if (Table.Mean == null) Table.FitNormaliser();
                // ==== 2. world model and branched rollouts ============================================
                if (Model != null && Turns % o.ModelTrainEvery == 0)
                {
                    TrainModel();
                    Lap("world model");
                    Rollout(RolloutLength(d));
                    Lap("rollouts");
                }
                // ==== 3. policy optimisation on real/model mixes ======================================
                Learner.Step = Turns;
                Learner.SetProgress((double)(d - o.RandomDialogs) / Math.Max(1, o.ScheduleLength - o.RandomDialogs));
                Updates(o.UpdatesPerStep);
                Lap("sac update");
            }
            DialogsDone = d + 1;
            // ==== evaluation ==========================================================================
            if (DialogsDone % o.EvalEvery == 0 || DialogsDone == o.Dialogs)
            {
                part.Restart();
                var rep = Evaluate(o.EvalEpisodes, Seed ^ 0xE7A1UL);
                Lap("evaluation");
                var p = new CurvePoint(DialogsDone, Turns, rep.Success.Mean, rep.Return.Mean, rep.Turns.Mean, clock.Elapsed.TotalSeconds);
                Curve.Add(p);
                double rate = DialogsDone / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                // online: the stochastic behaviour policy's own dialogs since the last point (exploration's yield)
                double online = onlineSuccesses / (double)Math.Max(1, DialogsDone - onlineSince);
                onlineSuccesses = 0; onlineSince = DialogsDone;
                Metrics["online_success"] = online;
                log?.Invoke($"dialogs {DialogsDone}/{o.Dialogs} turns {Turns} | greedy success {p.Success:P0} return {p.Return:F1} turns {p.AvgTurns:F1} online {online:P0} | "
                    + $"alpha {Learner.Alpha:F3} q {Metrics.GetValueOrDefault("q_mean"):F2} z-std {Metrics.GetValueOrDefault("latent_std"):F3}"
                    + (Model != null ? $" model-mse {Metrics.GetValueOrDefault("model_holdout_mse"):F3} k {RolloutLength(d)}" : "")
                    + $" | {rate:F2} dialogs/s, ETA {TimeSpan.FromSeconds((o.Dialogs - DialogsDone) / Math.Max(1e-9, rate)):mm\\:ss}");
                if (o.KeepBest && (Best == null || p.Success >= Best.Success))
                {
                    Best = p; bestEncoder = Learner.EncoderStore.ToArray(); bestActor = Learner.ActorStore.ToArray();
                }
                if (o.KeepBest && DialogsDone == o.Dialogs && Best != p)
                {
                    Learner.EncoderStore.CopyFrom(bestEncoder!); Learner.ActorStore.CopyFrom(bestActor!);
                    log?.Invoke($"keep-best: acting with the policy of dialog {Best!.Dialogs} (greedy success {Best.Success:P0} there)");
                }
                onEval?.Invoke(p);
            }
        }
    }

    int onlineSuccesses, onlineSince;
    DialogBatch? realBatch; LatentBatch? modelBatch;

    /// <summary>SAC steps on batches of real turns mixed with model transitions (RealRatio real once the model buffer holds any).</summary>
    void Updates(int count)
    {
        int B = Options.Sac.BatchSize;
        realBatch ??= new DialogBatch(B, Learner.L); modelBatch ??= new LatentBatch(B, Learner.Z);
        for (int g = 0; g < count; g++)
        {
            int nReal = ModelBuffer.Count == 0 ? B : Math.Max(1, (int)Math.Round(Options.RealRatio * B));
            Real.Sample(sampleRng, realBatch, nReal);
            if (nReal < B) ModelBuffer.Sample(sampleRng, modelBatch, B - nReal);
            Learner.Update(realBatch, nReal < B ? modelBatch : null);
        }
    }

    /// <summary>After WarmStart.Load filled the real buffer: the normaliser and the first world model come from the
    /// corpus turns, and the first rollouts branch from them.</summary>
    internal void AfterWarmStart(int dialogs)
    {
        WarmStartDialogs = dialogs;
        if (Real.Count == 0) return;
        if (Table.Mean == null) Table.FitNormaliser();
        Learner.SetProgress(0);
        if (Model != null) { TrainModel(); Rollout(RolloutLength(0)); }
        Updates(Options.WarmStartUpdates);
        // the encoder moved during those updates: refit the model and roll out again in its current latent space
        if (Model != null) { TrainModel(); Rollout(RolloutLength(0)); }
    }

    /// <summary>Refits the ensemble on the most recent real turns in the target encoder's latent space.</summary>
    void TrainModel()
    {
        int n = Math.Min(Real.Count, Options.ModelTrainWindow);
        var data = Real.LatentTransitions(n, (w, m) => Learner.Encode(w, m, target: true), Learner.Z, Learner.ActionFeatures, Learner.ActionFeatureDim);
        var (epochs, mse) = Model!.Train(data, modelRng, Turns);
        Metrics["model_epochs"] = epochs;
        Metrics["model_holdout_mse"] = Model.EliteIndices.Average(e => mse[e]);
    }

    /// <summary>k-step rollouts of the policy in the model from RolloutBatch real latents; a row stops
    /// once the model predicts the dialog's end.</summary>
    void Rollout(int k)
    {
        Metrics["rollout_length"] = k;
        int n = Math.Min(Options.RolloutBatch, Real.Count), L = Learner.L, z = Learner.Z, zd = z + 1, fd = Learner.ActionFeatureDim;
        var starts = new int[n * L];
        for (int i = 0; i < n; i++) Real.Window(actRng.NextInt(Real.Count)).CopyTo(starts.AsSpan(i * L));
        var cur = Learner.Encode(starts, n, target: true);
        var obs = new float[n * zd]; var next = new float[n * zd]; var r = new float[n];
        var feats = new float[n * fd]; var act = new int[n];
        for (int step = 0; step < k && n > 0; step++)
        {
            var p = Learner.Probs(cur, n);
            for (int i = 0; i < n; i++)
            {
                act[i] = actRng.Categorical(p.AsSpan(i * Learner.Actions, Learner.Actions));
                Learner.ActionFeatures.AsSpan(act[i] * fd, fd).CopyTo(feats.AsSpan(i * fd));
                cur.AsSpan(i * z, z).CopyTo(obs.AsSpan(i * zd)); obs[i * zd + z] = 0;
            }
            Model!.Predict(obs, feats, n, modelRng, next, r);
            int alive = 0;
            for (int i = 0; i < n; i++)
            {
                bool term = next[i * zd + z] > 0.5f;
                var z2 = next.AsSpan(i * zd, z);
                ModelBuffer.Add(cur.AsSpan(i * z, z), act[i], r[i], z2, term);
                if (!term) z2.CopyTo(cur.AsSpan(alive++ * z, z));
            }
            n = alive;
        }
    }

    /// <summary>The greedy policy on fixed evaluation dialogs (task reward), as `nanombpo eval` scores policies.</summary>
    public EvalReport Evaluate(int episodes, ulong seed, IReadOnlyList<PizzaRecord>? evalGoals = null) =>
        Evaluation.Run(new LatentPolicy(Learner, "mbpo-sac"), episodes, seed, evalGoals ?? goals);
}

/// <summary>A trained latent policy as an IDialogPolicy: greedy over π at the encoded history window.</summary>
public sealed class LatentPolicy(LatentSac learner, string name) : IDialogPolicy
{
    readonly int[] window = new int[learner.L];
    public string Name => name;
    public int Act(KinPizzaEnv env, DialogRng rng)
    {
        learner.Table.Window(env.History, window);
        return learner.Act(window, greedy: true, new Rng(0));
    }
}
