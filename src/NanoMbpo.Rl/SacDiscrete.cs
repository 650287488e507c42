// Soft Actor-Critic for discrete actions (Christodoulou 2019), read top to bottom like CleanRL's
// sac_atari.py: the policy is a categorical π(·|s) = softmax(logits), so expectations over actions
// are exact sums instead of samples:
//   critic target  r + γ(1 − terminated)·Σ_a' π(a'|s')·(min Q̄(s', a') − α log π(a'|s'))
//   critic loss    ½ Σ_i MSE(Q_i(s, a), target)
//   actor loss     mean_s Σ_a π(a|s)·(α log π(a|s) − min Q(s, a))   (Q detached)
//   temperature    −log α·(−H(π(·|s)) + H̄), H̄ = TargetEntropyScale·log|A|
// then Polyak targets (metrics add each network's gradient norm and mean/max |Q(s, a)| of the batch). With 2 actions the maximum entropy is log 2 = 0.693: CleanRL's 0.89 (or the
// paper's 0.98) asks for a nearly uniform policy, which cannot balance a pole; 0.3 works on CartPole.
// Tests: tests/NanoMbpo.Rl.Tests/LearningTests.cs; benchmark: `nanombpo bench sac` (SacBench.cs).
using NanoMbpo.Diagnostics;
using NanoMbpo.NN;
using NanoMbpo.Optim;
using NanoMbpo.Rl.Envs;

namespace NanoMbpo.Rl;

/// <summary>Discrete SAC hyperparameters (CleanRL sac_atari's learning rates, SB3-style Polyak targets).</summary>
public sealed record SacDiscreteOptions
{
    /// <summary>Adam learning rate of actor, critics and α (CleanRL 3e-4).</summary>
    public double LearningRate { get; init; } = 3e-4;
    public int BufferSize { get; init; } = 100_000;
    /// <summary>Uniform random actions before the first update.</summary>
    public int LearningStarts { get; init; } = 1000;
    public int BatchSize { get; init; } = 256;
    /// <summary>Polyak coefficient of the target critics.</summary>
    public double Tau { get; init; } = 0.005;
    public double Gamma { get; init; } = 0.99;
    /// <summary>Environment steps between gradient steps (CleanRL sac_atari 4; 2 here: 50k updates in a 100k-step run).</summary>
    public int UpdateEvery { get; init; } = 2;
    /// <summary>Target entropy as a fraction of the maximum log|A| (see the file header).</summary>
    public double TargetEntropyScale { get; init; } = 0.3;
    public double InitialAlpha { get; init; } = 1.0;
    public bool AutoAlpha { get; init; } = true;
    public int[] Hidden { get; init; } = [256, 256];
}

public sealed class SacDiscrete : OffPolicyAgent, ISacLearner
{
    public SacDiscreteOptions Options { get; }
    public override string Algo => "sac-discrete";
    public override string[] MetricNames => ["actor_loss", "alpha", "critic_loss", "entropy", "grad_norm_actor", "grad_norm_critic", "q_abs_mean", "q_abs_max"];
    readonly int nA;
    public ParameterStore ActorStore { get; } = new();
    public ParameterStore CriticStore { get; } = new();
    public ParameterStore TargetStore { get; } = new();
    public ParameterStore AlphaStore { get; } = new();
    readonly Mlp actor, qf1, qf2, qf1Target, qf2Target;
    readonly Tensor logAlpha;
    readonly Adam actorOpt, criticOpt, alphaOpt;
    readonly NumericGuard actorGuard, criticGuard;
    public double TargetEntropy { get; }
    public ReplayBuffer Buffer { get; }
    readonly Batch batch;
    readonly Rng actRng, sampleRng;
    readonly TensorArena arena = new();

    public SacDiscrete(IEnv env, ulong seed, SacDiscreteOptions? options = null, ReplayBuffer? buffer = null) : base(env, seed)
    {
        if (env.NumActions == 0) throw new ArgumentException($"sac-discrete: {env.Name} has continuous actions; use sac.");
        Options = options ?? new SacDiscreteOptions();
        nA = env.NumActions;
        var init = new Rng(seed);
        actor = Nets.Mlp(ActorStore, "actor.", env.ObsDim, Options.Hidden, nA, init.Fork(1));
        qf1 = Nets.Mlp(CriticStore, "qf1.", env.ObsDim, Options.Hidden, nA, init.Fork(2));
        qf2 = Nets.Mlp(CriticStore, "qf2.", env.ObsDim, Options.Hidden, nA, init.Fork(3));
        qf1Target = Nets.Mlp(TargetStore, "qf1.", env.ObsDim, Options.Hidden, nA, null);
        qf2Target = Nets.Mlp(TargetStore, "qf2.", env.ObsDim, Options.Hidden, nA, null);
        TargetStore.CopyFrom(CriticStore);
        logAlpha = AlphaStore.Create("log_alpha", 1);
        logAlpha.F32[0] = (float)Math.Log(Options.InitialAlpha);
        actorOpt = new Adam(ActorStore, Options.LearningRate);
        criticOpt = new Adam(CriticStore, Options.LearningRate);
        alphaOpt = new Adam(AlphaStore, Options.LearningRate);
        actorGuard = new NumericGuard(ActorStore, "actor"); criticGuard = new NumericGuard(CriticStore, "critic");
        TargetEntropy = Options.TargetEntropyScale * Math.Log(nA);
        Buffer = buffer ?? new ReplayBuffer(Options.BufferSize, env.ObsDim, 1);
        batch = new Batch(Options.BatchSize, env.ObsDim, 1);
        actRng = new Rng(seed).Fork(2); sampleRng = new Rng(seed).Fork(3);
    }

    public double Alpha => Math.Exp(logAlpha.F32[0]);

    public override void TrainStep()
    {
        // ---- act: uniform before learning starts, then a sample of π(·|s) ----------------------
        if (Step < Options.LearningStarts) action[0] = actRng.NextInt(nA);
        else
            using (Autograd.NoGrad())
                action[0] = actRng.Categorical(F.Softmax(actor.Forward(Tensor.FromArray(obs, 1, obs.Length))).F32);
        EnvStep(Buffer);
        // ---- learn ------------------------------------------------------------------------------
        if (Step > Options.LearningStarts && Step % Options.UpdateEvery == 0) Update(Buffer);
    }

    /// <summary>One gradient step on a batch from <paramref name="source"/> (MBPO passes a mixed sampler).</summary>
    public void Update(ReplayBuffer source) => Update(b => source.Sample(sampleRng, b));

    public Rng SampleRng => sampleRng;
    public Agent AsAgent => this;

    /// <summary>Actions sampled from π(·|s) for n observations (model rollouts).</summary>
    public void SampleActions(ReadOnlySpan<float> o, int n, Span<float> actions)
    {
        using var _ = Autograd.NoGrad();
        var p = F.Softmax(actor.Forward(Tensor.FromArray(o[..(n * Env.ObsDim)].ToArray(), n, Env.ObsDim))).F32;
        for (int i = 0; i < n; i++) actions[i] = actRng.Categorical(p.Slice(i * nA, nA));
    }

    public void Update(Action<Batch> fill)
    {
        fill(batch);
        using var _ = arena.Use();
        var (s, r, s2, term) = (batch.ObsT, batch.RewardsT, batch.NextObsT, batch.TerminatedT);
        int B = batch.Size;
        double alpha = Alpha;
        // ---- policy at s: probabilities and log-probabilities (B, A) ---------------------------
        var logits = actor.Forward(s);
        var probs = F.Softmax(logits); var logp = F.LogSoftmax(logits);
        // ---- temperature ------------------------------------------------------------------------
        double entropy = 0;
        var pd = probs.F32; var ld = logp.F32;
        for (int i = 0; i < pd.Length; i++) entropy -= pd[i] * ld[i];
        entropy /= B;
        Metrics["entropy"] = entropy;
        if (Options.AutoAlpha)
        {
            AlphaStore.Grad<float>()[0] = (float)(entropy - TargetEntropy);   // d/dlogα of −logα·(−H + H̄)
            if (!double.IsFinite(entropy)) throw new NonFiniteException($"step {Step}: the alpha loss is NaN.");
            alphaOpt.Step(zeroGrad: true);
        }
        // ---- critics ----------------------------------------------------------------------------
        Tensor target;
        using (Autograd.NoGrad())
        {
            var l2 = actor.Forward(s2);
            var v = F.Sum(F.Softmax(l2) * (F.Minimum(qf1Target.Forward(s2), qf2Target.Forward(s2)) - F.LogSoftmax(l2) * alpha), -1);
            target = F.Reshape(r, B) + F.Reshape(1.0 - term, B) * v * Options.Gamma;
        }
        Tensor? q1 = null, q2 = null;
        var qLoss = Nets.Loss(Step, "critic", () =>
        {
            var l1 = F.MseLoss(q1 = F.Gather(qf1.Forward(s), batch.ActionIndexT), target);
            var l2 = F.MseLoss(q2 = F.Gather(qf2.Forward(s), batch.ActionIndexT), target);
            return 0.5 * (l1 + l2);
        }, out double qv);
        Metrics["critic_loss"] = qv;
        AbsStats("q", q1!, q2!);
        qLoss.Backward();
        Metrics["grad_norm_critic"] = CheckGradients(criticGuard, CriticStore);
        criticOpt.Step(zeroGrad: true);
        // ---- actor: exact expectation over actions, critics detached --------------------------
        Tensor minQ;
        using (Autograd.NoGrad()) minQ = F.Minimum(qf1.Forward(s), qf2.Forward(s));
        var actorLoss = Nets.Loss(Step, "actor", () => F.MeanAll(F.Sum(probs * (logp * alpha - minQ), -1)), out double av);
        Metrics["actor_loss"] = av;
        actorLoss.Backward();
        Metrics["grad_norm_actor"] = CheckGradients(actorGuard, ActorStore);
        actorOpt.Step(zeroGrad: true);
        // ---- targets ----------------------------------------------------------------------------
        TargetStore.PolyakUpdate(CriticStore, Options.Tau);
        Metrics["alpha"] = Alpha;
    }

    public override void Act(ReadOnlySpan<float> o, Span<float> act)
    {
        using var _ = Autograd.NoGrad();
        var l = actor.Forward(Tensor.FromArray(o.ToArray(), 1, o.Length)).F32;
        int best = 0;
        for (int i = 1; i < l.Length; i++) if (l[i] > l[best]) best = i;
        act[0] = best;
    }

    public override IEnumerable<(string, ParameterStore, Adam?)> Networks() =>
        [("actor", ActorStore, actorOpt), ("critic", CriticStore, criticOpt), ("critic_target", TargetStore, null), ("alpha", AlphaStore, alphaOpt)];
    public override IEnumerable<(string, ReplayBuffer)> Buffers() { yield return ("replay", Buffer); }
    public override void WriteState(BinaryWriter w) { base.WriteState(w); actRng.Write(w); sampleRng.Write(w); }
    public override void ReadState(BinaryReader r) { base.ReadState(r); StateReader.At(r, "act_rng"); actRng.Read(r); StateReader.At(r, "sample_rng"); sampleRng.Read(r); }
}
