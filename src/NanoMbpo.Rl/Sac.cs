// Soft Actor-Critic for continuous actions (Haarnoja et al. 2018), read top to bottom like CleanRL's
// sac_continuous_action.py, with Stable-Baselines3's update order and defaults:
//   actor: ReLU MLP → mean and log σ (clamped to [−20, 2]); a = tanh(μ + σ·ε)·scale + bias
//          (reparameterisation), log π = Σ[−½ε² − log σ − ½ log 2π − log(scale·(1 − tanh²) + 1e-6)]
//   critics: twin Q(s, a) MLPs, target copies updated by Polyak τ every step
//   temperature: log α by Adam on −log α·(log π + H̄).detach(), H̄ = −|A|
//   per gradient step: α loss → critic target r + γ(1 − terminated)(min Q̄(s', a') − α log π(a'|s'))
//   → critic loss ½ Σ MSE → actor loss mean(α log π − min Q(s, ã)) with the critics frozen → Polyak.
// Metrics also carry each network's gradient norm and mean/max |Q| of the batch; a NaN gradient stops the run.
// Tests: tests/NanoMbpo.Rl.Tests/LearningTests.cs (learning signal on a bandit, determinism, NaN guard, frozen critics).
using NanoMbpo.Diagnostics;
using NanoMbpo.NN;
using NanoMbpo.Optim;
using NanoMbpo.Rl.Envs;

namespace NanoMbpo.Rl;

/// <summary>SAC hyperparameters; defaults are Stable-Baselines3's SAC defaults.</summary>
public sealed record SacOptions
{
    /// <summary>Adam learning rate of actor, critics and α (SB3 3e-4; the SB3 zoo uses 1e-3 on Pendulum).</summary>
    public double LearningRate { get; init; } = 3e-4;
    /// <summary>Replay capacity (SB3 1e6; at most the run length is ever used).</summary>
    public int BufferSize { get; init; } = 1_000_000;
    /// <summary>Uniformly random actions before the first update (SB3 100).</summary>
    public int LearningStarts { get; init; } = 100;
    public int BatchSize { get; init; } = 256;
    /// <summary>Polyak coefficient of the target critics (SB3 0.005).</summary>
    public double Tau { get; init; } = 0.005;
    public double Gamma { get; init; } = 0.99;
    /// <summary>Gradient steps per environment step (SB3 train_freq 1, gradient_steps 1).</summary>
    public int GradientSteps { get; init; } = 1;
    /// <summary>Hidden layers of actor and critics (SB3 [256, 256]).</summary>
    public int[] Hidden { get; init; } = [256, 256];
    /// <summary>Initial α (SB3 "auto" starts at 1.0).</summary>
    public double InitialAlpha { get; init; } = 1.0;
    /// <summary>Learn α towards the target entropy −|A| (SB3 ent_coef "auto").</summary>
    public bool AutoAlpha { get; init; } = true;
    public const double LogStdMin = -20, LogStdMax = 2;

    /// <summary>The SB3 rl-zoo settings per environment (Pendulum-v1: learning rate 1e-3).</summary>
    public static SacOptions For(string env) => env == "pendulum" ? new SacOptions { LearningRate = 1e-3 } : new SacOptions();
}

public sealed class Sac : OffPolicyAgent, ISacLearner
{
    public SacOptions Options { get; }
    public override string Algo => "sac";
    public override string[] MetricNames => ["actor_loss", "alpha", "alpha_loss", "critic_loss", "grad_norm_actor", "grad_norm_critic", "q_abs_mean", "q_abs_max"];
    readonly int actDim;
    readonly float scale, bias;
    // ---- networks --------------------------------------------------------------------------------
    public ParameterStore ActorStore { get; } = new();
    public ParameterStore CriticStore { get; } = new();
    public ParameterStore TargetStore { get; } = new();
    public ParameterStore AlphaStore { get; } = new();
    readonly Mlp actorTrunk; readonly Linear fcMean, fcLogStd;
    readonly Mlp qf1, qf2, qf1Target, qf2Target;
    readonly Tensor logAlpha;
    readonly Adam actorOpt, criticOpt, alphaOpt;
    readonly NumericGuard actorGuard, criticGuard;
    readonly double targetEntropy;
    // ---- data ------------------------------------------------------------------------------------
    public ReplayBuffer Buffer { get; }
    readonly Batch batch;
    readonly Rng actRng, sampleRng;
    readonly TensorArena arena = new();

    public Sac(IEnv env, ulong seed, SacOptions? options = null) : base(env, seed)
    {
        if (env.NumActions != 0) throw new ArgumentException($"sac: {env.Name} has discrete actions; use sac-discrete.");
        Options = options ?? new SacOptions();
        int od = env.ObsDim; actDim = env.ActionDim;
        scale = (env.ActionHigh - env.ActionLow) / 2; bias = (env.ActionHigh + env.ActionLow) / 2;
        var init = new Rng(seed);
        actorTrunk = Nets.Mlp(ActorStore, "trunk.", od, Options.Hidden[..^1], Options.Hidden[^1], init.Fork(1), Activation.Relu);
        fcMean = new Linear(ActorStore, "mean.", Options.Hidden[^1], actDim, init.Fork(2));
        fcLogStd = new Linear(ActorStore, "log_std.", Options.Hidden[^1], actDim, init.Fork(3));
        qf1 = Nets.Mlp(CriticStore, "qf1.", od + actDim, Options.Hidden, 1, init.Fork(4));
        qf2 = Nets.Mlp(CriticStore, "qf2.", od + actDim, Options.Hidden, 1, init.Fork(5));
        qf1Target = Nets.Mlp(TargetStore, "qf1.", od + actDim, Options.Hidden, 1, null);
        qf2Target = Nets.Mlp(TargetStore, "qf2.", od + actDim, Options.Hidden, 1, null);
        TargetStore.CopyFrom(CriticStore);
        logAlpha = AlphaStore.Create("log_alpha", 1);
        logAlpha.F32[0] = (float)Math.Log(Options.InitialAlpha);
        actorOpt = new Adam(ActorStore, Options.LearningRate);
        criticOpt = new Adam(CriticStore, Options.LearningRate);
        alphaOpt = new Adam(AlphaStore, Options.LearningRate);
        actorGuard = new NumericGuard(ActorStore, "actor"); criticGuard = new NumericGuard(CriticStore, "critic");
        targetEntropy = -actDim;
        Buffer = new ReplayBuffer(Options.BufferSize, od, actDim);
        batch = new Batch(Options.BatchSize, od, actDim);
        actRng = new Rng(seed).Fork(2); sampleRng = new Rng(seed).Fork(3);
    }

    public double Alpha => Math.Exp(logAlpha.F32[0]);

    /// <summary>Samples ã = tanh(μ + σε)·scale + bias and log π(ã|s) (B, 1) with the reparameterisation trick.</summary>
    (Tensor Action, Tensor LogProb) SampleAction(Tensor s)
    {
        var h = actorTrunk.Forward(s);
        var mean = fcMean.Forward(h);
        var logStd = F.Clamp(fcLogStd.Forward(h), SacOptions.LogStdMin, SacOptions.LogStdMax);
        int B = s.Shape[0];
        var eps = Tensor.Zeros(B, actDim);
        var logpConst = Tensor.Zeros(B, 1);   // Σ −½ε² − ½ log 2π: the Gaussian part that does not depend on the parameters
        var e = eps.F32; var c = logpConst.F32;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < actDim; j++)
            {
                double z = actRng.Normal();
                e[b * actDim + j] = (float)z;
                c[b] += (float)(-0.5 * z * z - 0.5 * Math.Log(2 * Math.PI));
            }
        var y = F.Tanh(mean + F.Exp(logStd) * eps);
        var action = y * scale + bias;
        var correction = F.Log((1.0 - y * y) * scale + 1e-6);
        var logProb = logpConst - F.Sum(logStd + correction, -1, keepDim: true);
        return (action, logProb);
    }

    public override void TrainStep()
    {
        // ---- act: uniform random before learning starts, then a sample from the policy ---------
        if (Step < Options.LearningStarts)
            for (int j = 0; j < actDim; j++) action[j] = (float)actRng.Uniform(Env.ActionLow, Env.ActionHigh);
        else
            using (Autograd.NoGrad()) SampleAction(Tensor.FromArray(obs, 1, obs.Length)).Action.F32.CopyTo(action);
        EnvStep(Buffer);
        // ---- learn -----------------------------------------------------------------------------
        if (Step > Options.LearningStarts)
            for (int g = 0; g < Options.GradientSteps; g++) Update();
    }

    /// <summary>One SAC gradient step on a batch from the replay buffer.</summary>
    public void Update() => Update(b => Buffer.Sample(sampleRng, b));

    public Rng SampleRng => sampleRng;
    public Agent AsAgent => this;

    /// <summary>Stochastic policy actions for n observations (model rollouts).</summary>
    public void SampleActions(ReadOnlySpan<float> o, int n, Span<float> actions)
    {
        using var _ = Autograd.NoGrad();
        SampleAction(Tensor.FromArray(o[..(n * Env.ObsDim)].ToArray(), n, Env.ObsDim)).Action.F32.CopyTo(actions);
    }

    /// <summary>One SAC gradient step on the batch <paramref name="fill"/> writes.</summary>
    public void Update(Action<Batch> fill)
    {
        fill(batch);
        using var _ = arena.Use();
        var (s, a, r, s2, term) = (batch.ObsT, batch.ActionsT, batch.RewardsT, batch.NextObsT, batch.TerminatedT);
        // ---- temperature ------------------------------------------------------------------------
        var (pi, logPi) = SampleAction(s);
        double alpha = Alpha;   // the α of this step's losses is the one before its update (SB3)
        if (Options.AutoAlpha)
        {
            // d/dlogα of −mean(logα·(log π + H̄)) = −mean(log π + H̄)
            double meanLogPi = 0; foreach (var v in logPi.F32) meanLogPi += v;
            meanLogPi /= logPi.Length;
            AlphaStore.Grad<float>()[0] = (float)-(meanLogPi + targetEntropy);
            Metrics["alpha_loss"] = -logAlpha.F32[0] * (meanLogPi + targetEntropy);
            if (!double.IsFinite(meanLogPi)) throw new NonFiniteException($"step {Step}: the alpha loss is NaN (log π of the actor).");
            alphaOpt.Step(zeroGrad: true);
        }
        // ---- critics: soft Bellman target from the target critics --------------------------------
        Tensor target;
        using (Autograd.NoGrad())
        {
            var (a2, logPi2) = SampleAction(s2);
            var s2a2 = F.Concat([s2, a2], 1);   // one (s, a) input shared by both critics
            var minQ = F.Minimum(qf1Target.Forward(s2a2), qf2Target.Forward(s2a2)) - logPi2 * alpha;
            target = r + (1.0 - term) * minQ * Options.Gamma;
        }
        var sa = F.Concat([s, a], 1);
        Tensor? q1 = null, q2 = null;
        var qLoss = Nets.Loss(Step, "critic", () =>
        {
            var l1 = F.MseLoss(q1 = qf1.Forward(sa), target);
            var l2 = F.MseLoss(q2 = qf2.Forward(sa), target);
            return 0.5 * (l1 + l2);
        }, out double qv);
        Metrics["critic_loss"] = qv;
        AbsStats("q", q1!, q2!);
        qLoss.Backward();
        Metrics["grad_norm_critic"] = CheckGradients(criticGuard, CriticStore);
        criticOpt.Step(zeroGrad: true);
        // ---- actor: maximise min Q − α log π through frozen critics -------------------------------
        // (Backward inside the scope: ops read RequiresGrad when their backward runs.)
        using (Nets.Freeze(CriticStore))
        {
            var spi = F.Concat([s, pi], 1);
            var actorLoss = Nets.Loss(Step, "actor", () => F.MeanAll(logPi * alpha - F.Minimum(qf1.Forward(spi), qf2.Forward(spi))), out double av);
            Metrics["actor_loss"] = av;
            actorLoss.Backward();
        }
        Metrics["grad_norm_actor"] = CheckGradients(actorGuard, ActorStore);
        actorOpt.Step(zeroGrad: true);
        // ---- targets ----------------------------------------------------------------------------
        TargetStore.PolyakUpdate(CriticStore, Options.Tau);
        Metrics["alpha"] = Alpha;
    }

    public override void Act(ReadOnlySpan<float> o, Span<float> act)
    {
        using var _ = Autograd.NoGrad();
        var mean = fcMean.Forward(actorTrunk.Forward(Tensor.FromArray(o.ToArray(), 1, o.Length)));
        for (int j = 0; j < actDim; j++) act[j] = MathF.Tanh(mean.F32[j]) * scale + bias;
    }

    public override IEnumerable<(string, ParameterStore, Adam?)> Networks() =>
        [("actor", ActorStore, actorOpt), ("critic", CriticStore, criticOpt), ("critic_target", TargetStore, null), ("alpha", AlphaStore, alphaOpt)];
    public override IEnumerable<(string, ReplayBuffer)> Buffers() { yield return ("replay", Buffer); }

    public override void WriteState(BinaryWriter w) { base.WriteState(w); actRng.Write(w); sampleRng.Write(w); }
    public override void ReadState(BinaryReader r) { base.ReadState(r); StateReader.At(r, "act_rng"); actRng.Read(r); StateReader.At(r, "sample_rng"); sampleRng.Read(r); }
}
