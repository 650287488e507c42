// Model-Based Policy Optimisation (Janner et al. 2019) as one readable method. Every real step:
//   1. act in the real environment with the SAC policy (uniform random for the first steps), store it;
//   2. every ModelTrainFreq steps: train the ensemble world model on all real data (WorldModel.Train),
//      then branch RolloutBatch k-step rollouts from real start states with the policy, each step's
//      prediction from a random elite, into the model buffer; k follows a linear schedule in steps;
//   3. G SAC gradient steps on batches mixing real (RealRatio) and model transitions.
// Dyna is the k = 1 case (MinRolloutLength = MaxRolloutLength = 1). The policy optimiser is either
// continuous Sac or SacDiscrete (ISacLearner). Tests: tests/NanoMbpo.Rl.Tests/ModelTests.cs.
using NanoMbpo.Optim;
using NanoMbpo.Rl.Envs;

namespace NanoMbpo.Rl;

public sealed record MbpoOptions
{
    /// <summary>Uniform random actions before the policy acts (and before the first model).</summary>
    public int InitialRandomSteps { get; init; } = 500;
    /// <summary>Real steps between model trainings and rollout rounds (MBPO 250).</summary>
    public int ModelTrainFreq { get; init; } = 250;
    /// <summary>Start states per rollout round (MBPO 100k on MuJoCo; Pendulum needs far fewer).</summary>
    public int RolloutBatch { get; init; } = 5000;
    /// <summary>Rollout length k grows linearly from Min to Max between the two steps (MBPO's schedule).</summary>
    public int MinRolloutLength { get; init; } = 1;
    public int MaxRolloutLength { get; init; } = 5;
    public long RolloutScheduleStart { get; init; } = 1000;
    public long RolloutScheduleEnd { get; init; } = 3000;
    /// <summary>Rollout rounds the model buffer keeps (MBPO model_retain_epochs).</summary>
    public int RetainRounds { get; init; } = 4;
    /// <summary>SAC gradient steps per real step (MBPO G = 20; 10 here to fit 5k steps into the 10-minute
    /// 2-core budget: 45k updates ≈ 200 s of one core, 20 would need ≈ 415 s before the model fits).</summary>
    public int UpdatesPerStep { get; init; } = 10;
    /// <summary>Fraction of real transitions in each SAC batch (MBPO 0.05).</summary>
    public double RealRatio { get; init; } = 0.05;
    public WorldModelOptions Model { get; init; } = new();
}

public sealed class Mbpo : OffPolicyAgent
{
    public MbpoOptions Options { get; }
    public override string Algo => "mbpo";
    public override string[] MetricNames => [.. learner.AsAgent.MetricNames, "model_epochs", "model_holdout_mse", "rollout_length", "grad_norm_world_model"];
    readonly ISacLearner learner;
    public WorldModel Model { get; }
    public ReplayBuffer Real { get; }
    public ReplayBuffer ModelBuffer { get; }
    readonly Rng actRng, modelRng;
    readonly int actDim;

    public Mbpo(IEnv env, ulong seed, MbpoOptions? options = null, ISacLearner? learner = null) : base(env, seed)
    {
        Options = options ?? new MbpoOptions();
        actDim = env.ActionDim;
        // The learner gets its own environment instance that it never steps: MBPO drives the real one.
        this.learner = learner ?? (env.NumActions == 0
            ? new Sac(Envs.Envs.Make(env.Key), seed, SacOptions.For(env.Key) with { BufferSize = 1 })
            : new SacDiscrete(Envs.Envs.Make(env.Key), seed, new SacDiscreteOptions { BufferSize = 1 }));
        Model = new WorldModel(env.ObsDim, actDim, new Rng(seed).Fork(100), Options.Model);
        Real = new ReplayBuffer(1_000_000, env.ObsDim, actDim);
        ModelBuffer = new ReplayBuffer(Options.RolloutBatch * Options.MaxRolloutLength * Options.RetainRounds, env.ObsDim, actDim);
        actRng = new Rng(seed).Fork(12); modelRng = new Rng(seed).Fork(13);
    }

    public int RolloutLength
    {
        get
        {
            double f = Math.Clamp((double)(Step - Options.RolloutScheduleStart) / Math.Max(1, Options.RolloutScheduleEnd - Options.RolloutScheduleStart), 0, 1);
            return (int)Math.Round(Options.MinRolloutLength + f * (Options.MaxRolloutLength - Options.MinRolloutLength));
        }
    }

    public override void TrainStep()
    {
        // ==== 1. real step ============================================================================
        if (Step < Options.InitialRandomSteps)
        {
            if (Env.NumActions > 0) action[0] = actRng.NextInt(Env.NumActions);
            else for (int j = 0; j < actDim; j++) action[j] = (float)actRng.Uniform(Env.ActionLow, Env.ActionHigh);
        }
        else learner.SampleActions(obs, 1, action);
        EnvStep(Real);
        // ==== 2. model training and branched rollouts ===================================================
        if (Step >= Options.InitialRandomSteps && Step % Options.ModelTrainFreq == 0)
        {
            var (epochs, mse) = Model.Train(Real, modelRng, Step);
            Metrics["model_epochs"] = epochs;
            Metrics["model_holdout_mse"] = Model.EliteIndices.Average(e => mse[e]);
            Metrics["grad_norm_world_model"] = Model.LastGradNormMax;   // the largest of the round
            Rollout(RolloutLength);
        }
        // ==== 3. policy optimisation on real/model mixes ================================================
        if (ModelBuffer.Count > 0)
        {
            learner.AsAgent.FollowStep(Step);   // so a NaN in a SAC loss names MBPO's real step
            for (int g = 0; g < Options.UpdatesPerStep; g++)
                learner.Update(b => ReplayBuffer.SampleMixed(learner.SampleRng, Real, ModelBuffer, Options.RealRatio, b));
            foreach (var (k, v) in learner.AsAgent.Metrics) Metrics[k] = v;
        }
    }

    /// <summary>k-step rollouts of the policy in the model from RolloutBatch real start states;
    /// a row stops once the environment's termination rule holds.</summary>
    void Rollout(int k)
    {
        Metrics["rollout_length"] = k;
        int n = Options.RolloutBatch, od = Env.ObsDim;
        var s = new float[n * od]; var a = new float[n * actDim]; var s2 = new float[n * od]; var r = new float[n];
        for (int i = 0; i < n; i++) Real.ObsAt(actRng.NextInt(Real.Count)).CopyTo(s.AsSpan(i * od, od));
        for (int step = 0; step < k && n > 0; step++)
        {
            learner.SampleActions(s, n, a);
            Model.Predict(s, a, n, modelRng, s2, r);
            int alive = 0;
            for (int i = 0; i < n; i++)
            {
                var next = s2.AsSpan(i * od, od);
                bool term = Envs.Envs.IsTerminal(Env.Key, next);
                ModelBuffer.Add(s.AsSpan(i * od, od), a.AsSpan(i * actDim, actDim), r[i], next, term);
                if (!term) next.CopyTo(s.AsSpan(alive++ * od, od));
            }
            n = alive;
        }
    }

    public override void Act(ReadOnlySpan<float> o, Span<float> act) => learner.AsAgent.Act(o, act);

    public override IEnumerable<(string, ParameterStore, Adam?)> Networks()
    {
        foreach (var (name, store, opt) in learner.AsAgent.Networks()) yield return ("sac_" + name, store, opt);
        yield return ("world_model", Model.Store, Model.Optimizer);
        yield return ("world_model_norm", Model.NormStore, null);
    }

    public override IEnumerable<(string, ReplayBuffer)> Buffers() { yield return ("real", Real); yield return ("model", ModelBuffer); }

    public override void WriteState(BinaryWriter w)
    {
        base.WriteState(w); actRng.Write(w); modelRng.Write(w); Model.WriteState(w);
        learner.AsAgent.WriteState(w);
    }

    public override void ReadState(BinaryReader r)
    {
        base.ReadState(r);
        StateReader.At(r, "act_rng"); actRng.Read(r);
        StateReader.At(r, "model_rng"); modelRng.Read(r);
        Model.ReadState(r);
        learner.AsAgent.ReadState(r);
    }
}
