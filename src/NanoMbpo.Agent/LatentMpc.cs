// Model-predictive control through a learned model in the seller's latent space: the planning baseline of the
// MBPO-SAC agent on the same harness (LatentAgent's loop and budget of real dialogs). The world model is
// SellerMbpo's (the RL core's WorldModel over latents of the EMA target encoder: inputs [z, 0] and φ(a),
// targets [r, Δz, done], refitted every ModelTrainEvery real turns on the recent ones). The encoder learns
// from LatentSac's latent-dynamics loss alone (‖D(z, φ(a)) − [z̄', s·r]‖², G steps per real turn), since no
// critic or actor exists. Every turn the planner (CemPlanner) scores action sequences of length H by the
// discounted return each elite member predicts from its own mean rollout (reward counted until the member
// predicts the dialog's end), averaged over the elites, and the first action of the best sequence is played:
//   mpc     CEM: N sequences from per-step categoricals (uniform at first), refitted to the top K, I rounds;
//   mpc-rs  random shooting: one round of N uniform sequences.
// Before the first model (the random warm-up dialogs) it acts uniformly at random as the other methods.
// Tested by tests/NanoMbpo.Agent.Tests/BaselineTests.cs (CEM on a hand-made model, determinism, checkpoint).
using NanoMbpo.Dialog;
using NanoMbpo.Optim;
using NanoMbpo.Rl;

namespace NanoMbpo.Agent;

/// <summary>MPC's own hyperparameters (the encoder, γ, world model and its schedule are the MBPO agent's).</summary>
public sealed record LatentMpcOptions
{
    /// <summary>H, the planning horizon in seller turns (a dialog needs ~8 for a whole order; the model's error grows
    /// with H; the learned reply reward scores each turn, so a short horizon still sees progress).</summary>
    public int Horizon { get; init; } = 4;
    /// <summary>N, action sequences scored per CEM round. The cost per real turn is N·H·rounds rows through all
    /// members: H = 5, N = 128, 3 rounds planned at 0.6 dialogs/s on one contended core (hashed embedder, 100 dialogs),
    /// ~40 minutes per 1000-dialog seed with its evaluations; these defaults cut that by 2.5×.</summary>
    public int Candidates { get; init; } = 64;
    /// <summary>CEM rounds (PETS 5; fewer here for the CPU budget). mpc-rs always plays one uniform round.</summary>
    public int CemIterations { get; init; } = 3;
    /// <summary>K, the top sequences each round's distribution is refitted to (PETS 50 of 500; the same 1/8 here).</summary>
    public int CemElites { get; init; } = 8;
    /// <summary>Fraction of the previous round's per-step distribution kept (PETS' α = 0.1).</summary>
    public double CemKeep { get; init; } = 0.1;
    /// <summary>Adam learning rate of the encoder and its dynamics head (LatentSac's).</summary>
    public double EncoderLearningRate { get; init; } = 3e-4;

    public void Validate()
    {
        if (Horizon < 1) throw new ArgumentOutOfRangeException("Mpc.Horizon", Horizon, "expected at least 1");
        if (Candidates < 1) throw new ArgumentOutOfRangeException("Mpc.Candidates", Candidates, "expected at least 1");
        if (CemIterations < 1) throw new ArgumentOutOfRangeException("Mpc.CemIterations", CemIterations, "expected at least 1");
        if (CemElites < 1 || CemElites > Candidates) throw new ArgumentOutOfRangeException("Mpc.CemElites", CemElites, $"expected 1..Candidates ({Candidates})");
        if (CemKeep is < 0 or >= 1 || double.IsNaN(CemKeep)) throw new ArgumentOutOfRangeException("Mpc.CemKeep", CemKeep, "expected a fraction in [0, 1)");
        if (!(EncoderLearningRate > 0) || double.IsInfinity(EncoderLearningRate)) throw new ArgumentOutOfRangeException("Mpc.EncoderLearningRate", EncoderLearningRate, "expected a positive finite rate");
    }
}

/// <summary>A latent model the planner rolls out: Members predictions per row, member m on rows m·n … m·n + n − 1.</summary>
public interface ILatentModel
{
    int Members { get; }
    int Z { get; }
    /// <summary>z (M·n, Z) and actions (M·n) → z' (M·n, Z), rewards (M·n) and done (M·n; > 0.5 = the dialog ended).</summary>
    void Step(float[] z, int[] actions, int n, float[] z2, float[] rewards, float[] done);
}

/// <summary>The RL core's ensemble as an ILatentModel: each elite member's mean prediction, no sampling.</summary>
public sealed class WorldModelLatents(WorldModel model, float[] actionFeatures, int featureDim) : ILatentModel
{
    public int Members => model.EliteIndices.Length;
    public int Z => model.ObsDim - 1;

    public void Step(float[] z, int[] actions, int n, float[] z2, float[] rewards, float[] done)
    {
        int E = model.Options.Members, M = Members, Zd = Z, od = Zd + 1, fd = featureDim;
        var obs = new float[E * n * od]; var feats = new float[E * n * fd];
        var next = new float[E * n * od]; var r = new float[E * n];
        for (int e = 0; e < E; e++)
        {
            int k = Array.IndexOf(model.EliteIndices, e);
            if (k < 0) k = 0;                                   // a non-elite member's rows are computed and ignored
            for (int i = 0; i < n; i++)
            {
                z.AsSpan((k * n + i) * Zd, Zd).CopyTo(obs.AsSpan((e * n + i) * od));
                actionFeatures.AsSpan(actions[k * n + i] * fd, fd).CopyTo(feats.AsSpan((e * n + i) * fd));
            }
        }
        model.PredictMeans(obs, feats, n, next, r);
        for (int k = 0; k < M; k++)
        {
            int e = model.EliteIndices[k];
            for (int i = 0; i < n; i++)
            {
                next.AsSpan((e * n + i) * od, Zd).CopyTo(z2.AsSpan((k * n + i) * Zd));
                rewards[k * n + i] = r[e * n + i]; done[k * n + i] = next[(e * n + i) * od + Zd];
            }
        }
    }
}

/// <summary>CEM over discrete action sequences (random shooting with one round).</summary>
public sealed class CemPlanner(int actions, int horizon, int candidates, int iterations, int elites, double keep, double gamma)
{
    /// <summary>The best sequence found and its ensemble-averaged discounted return.</summary>
    public (int[] Best, double Return) Plan(ILatentModel model, ReadOnlySpan<float> z0, Rng rng)
    {
        int A = actions, H = horizon, N = candidates, M = model.Members, Z = model.Z;
        var probs = new double[H * A];
        Array.Fill(probs, 1.0 / A);
        var seq = new int[N * H]; var score = new double[N]; var ret = new double[M * N];
        var z = new float[M * N * Z]; var z2 = new float[M * N * Z]; var r = new float[M * N]; var done = new float[M * N];
        var act = new int[M * N]; var alive = new bool[M * N]; var order = new int[N];
        int[] best = new int[H]; double bestScore = double.NegativeInfinity;
        for (int it = 0; it < iterations; it++)
        {
            for (int i = 0; i < N; i++)
                for (int h = 0; h < H; h++) seq[i * H + h] = rng.Categorical(probs.AsSpan(h * A, A));
            for (int row = 0; row < M * N; row++) { z0.CopyTo(z.AsSpan(row * Z, Z)); alive[row] = true; ret[row] = 0; }
            double discount = 1;
            for (int h = 0; h < H; h++)
            {
                for (int m = 0; m < M; m++) for (int i = 0; i < N; i++) act[m * N + i] = seq[i * H + h];
                model.Step(z, act, N, z2, r, done);
                for (int row = 0; row < M * N; row++)
                {
                    if (!alive[row]) continue;
                    ret[row] += discount * r[row];
                    if (done[row] > 0.5f) alive[row] = false;        // nothing after the predicted end of the dialog
                }
                (z, z2) = (z2, z);
                discount *= gamma;
            }
            for (int i = 0; i < N; i++)
            {
                double s = 0;
                for (int m = 0; m < M; m++) s += ret[m * N + i];
                score[i] = s / M; order[i] = i;
            }
            Array.Sort(order, (a, b) => score[a] != score[b] ? score[b].CompareTo(score[a]) : a.CompareTo(b));
            if (score[order[0]] > bestScore) { bestScore = score[order[0]]; seq.AsSpan(order[0] * H, H).CopyTo(best); }
            for (int h = 0; h < H; h++)
            {
                var p = probs.AsSpan(h * A, A);
                for (int a = 0; a < A; a++) p[a] *= keep;
                for (int k = 0; k < elites; k++) p[seq[order[k] * H + h]] += (1 - keep) / elites;
            }
        }
        return (best, bestScore);
    }
}

public sealed class LatentMpc : LatentAgent
{
    public LatentMpcOptions Mpc => Options.Mpc;
    public WorldModel Model { get; }
    public bool ModelReady { get; private set; }
    public CemPlanner Planner { get; }
    public Adam EncoderOpt { get; }
    public Adam DynamicsOpt { get; }
    readonly NanoMbpo.Diagnostics.NumericGuard encoderGuard, dynamicsGuard;
    readonly NanoMbpo.NN.TensorArena arena = new();
    readonly DialogBatch batch;
    readonly Rng modelRng;
    readonly ILatentModel latents;

    public LatentMpc(UtteranceTable table, SellerOptions options, ulong seed, Func<KinPizzaEnv> makeEnv, IReadOnlyList<PizzaRecord>? goals = null)
        : base(table, options, seed, makeEnv, goals)
    {
        Mpc.Validate();
        int z = State.Z;
        Model = new WorldModel(z + 1, State.ActionFeatureDim, new Rng(seed).Fork(50), options.Model);
        latents = new WorldModelLatents(Model, State.ActionFeatures, State.ActionFeatureDim);
        int rounds = options.Method == SellerMethod.MpcRs ? 1 : Mpc.CemIterations;
        Planner = new CemPlanner(Actions, Mpc.Horizon, Mpc.Candidates, rounds, Mpc.CemElites, Mpc.CemKeep, options.Sac.Gamma);
        EncoderOpt = new Adam(State.EncoderStore, Mpc.EncoderLearningRate); DynamicsOpt = new Adam(State.DynamicsStore, Mpc.EncoderLearningRate);
        encoderGuard = new(State.EncoderStore, "latent encoder"); dynamicsGuard = new(State.DynamicsStore, "latent dynamics");
        batch = new DialogBatch(options.Sac.BatchSize, State.L);
        modelRng = new Rng(seed).Fork(53);
    }

    public override string PolicyName => SellerMethods.Name(Options.Method);
    public override IReadOnlyList<string> CsvMetrics => ["dynamics_loss", "grad_norm_encoder", "model_holdout_mse", "model_epochs", "plan_return", "latent_std"];
    protected override string[] PolicyNetworks => ["encoder_target", "world_model", "world_model_norm"];
    public override IEnumerable<(string Name, ParameterStore Store, Adam? Optimizer)> Networks() =>
    [
        ("encoder", State.EncoderStore, EncoderOpt), ("encoder_target", State.EncoderTargetStore, null), ("dynamics", State.DynamicsStore, DynamicsOpt),
        ("world_model", Model.Store, Model.Optimizer), ("world_model_norm", Model.NormStore, null),
    ];
    protected override Rng PolicyRng() => new Rng(Seed).Fork(60);

    protected override int Act(ReadOnlySpan<int> window, int dialog, bool greedy, Rng rng)
    {
        if (!ModelReady) return rng.NextInt(Actions);
        var (best, ret) = Planner.Plan(latents, State.Encode(window, 1, target: true), rng);
        Metrics["plan_return"] = ret;
        return best[0];
    }

    protected override void AfterTurn(int dialog)
    {
        if (!ModelReady || Turns % Options.ModelTrainEvery == 0)
        {
            TrainModel();
            ModelReady = true;
            Lap("world model");
        }
        for (int g = 0; g < Options.UpdatesPerStep; g++)
        {
            Real.Sample(sampleRng, batch, batch.A.Length);
            Update(batch);
        }
        Lap("encoder update");
    }

    /// <summary>One step of the latent-dynamics loss into the encoder, then the EMA target encoder.</summary>
    public void Update(DialogBatch b)
    {
        using var _ = arena.Use();
        int B = b.Rows;
        var rew = new float[B];
        for (int i = 0; i < B; i++) rew[i] = (float)(b.R[i] * Options.Sac.RewardScale);
        var z = State.Forward(b.S, B, target: false);
        var z2 = State.Forward(b.S2, B, target: true);
        var loss = State.DynamicsLoss(Step, z, z2, b.A.AsSpan(0, B), rew, out double dv);
        loss.Backward();
        Metrics["grad_norm_encoder"] = encoderGuard.CheckGradients(Step);
        dynamicsGuard.CheckGradients(Step);
        EncoderOpt.Step(zeroGrad: true); DynamicsOpt.Step(zeroGrad: true);
        State.EncoderTargetStore.PolyakUpdate(State.EncoderStore, Options.Sac.EncoderTau);
        Metrics["dynamics_loss"] = dv;
        Metrics["latent_std"] = LatentSac.Std(z.F32, B, State.Z);
    }

    /// <summary>Refits the ensemble on the most recent real turns in the target encoder's latent space (SellerMbpo.TrainModel).</summary>
    void TrainModel()
    {
        int n = Math.Min(Real.Count, Options.ModelTrainWindow);
        var data = Real.LatentTransitions(n, (w, m) => State.Encode(w, m, target: true), State.Z, State.ActionFeatures, State.ActionFeatureDim);
        var (epochs, mse) = Model.Train(data, modelRng, Turns);
        Metrics["model_epochs"] = epochs;
        Metrics["model_holdout_mse"] = Model.EliteIndices.Average(e => mse[e]);
    }

    public override void Save(string dir) => SellerCheckpoint.Save(Networks(), Table, dir, DialogsDone,
        new Dictionary<string, string> { ["elites"] = string.Join(",", Model.EliteIndices), ["model_ready"] = ModelReady ? "1" : "0" });

    public override void Load(string dir, bool all = false)
    {
        var meta = SellerCheckpoint.Load(Networks(), Table, dir, all ? null : PolicyNetworks);   // every file carries the elites
        if (!meta.TryGetValue("elites", out var el)) throw new InvalidDataException($"checkpoint '{dir}': world_model.safetensors has no 'elites' metadata.");
        var ids = el.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(x => int.TryParse(x, out int v) ? v : -1).ToArray();
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) { w.Write(ids.Length); foreach (var e in ids) w.Write(e); }
        ms.Position = 0;
        try { Model.ReadState(new BinaryReader(ms)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"checkpoint '{dir}': world_model.safetensors 'elites' = '{el}': {e.Message}"); }
        ModelReady = meta.GetValueOrDefault("model_ready") == "1";
    }

    protected override string Status() => FormattableString.Invariant(
        $"plan return {Metrics.GetValueOrDefault("plan_return"):F2} dyn-loss {Metrics.GetValueOrDefault("dynamics_loss"):F3} model-mse {Metrics.GetValueOrDefault("model_holdout_mse"):F3} z-std {Metrics.GetValueOrDefault("latent_std"):F3}");
}
