// DQN (Mnih et al. 2015, with van Hasselt's double-Q targets) in the seller's latent space, the value-based
// baseline of the MBPO-SAC agent on the same harness (LatentAgent's loop, the same replay and budget of real
// dialogs). The state is z = LatentEncoder(window), the same encoder as LatentSac's, trained through the TD
// loss; the Q-head is an MLP with SAC's critic sizes. Every real turn after the random dialogs, G updates on
// batches of real turns (SAC's G and batch size):
//   Huber( Q(z, a), s·r + γ(1 − done)·Q̄(z̄', argmax_a' Q(z', a')) ),  z̄' and Q̄ the target encoder and head
// with gradient-norm clipping, a linearly decaying learning rate, ε-greedy acting with ε falling linearly
// from 1 over a fraction of the budget, and a Polyak (or periodic hard) target update. s, γ: LatentSac's.
// Tested by tests/NanoMbpo.Agent.Tests/BaselineTests.cs (determinism, checkpoint, NaN naming).
using NanoMbpo.Dialog;
using NanoMbpo.NN;
using NanoMbpo.Optim;
using NanoMbpo.Rl;

namespace NanoMbpo.Agent;

/// <summary>DQN's own hyperparameters. The batch size, G, γ, reward scale, Q-head sizes and the encoder come from
/// SellerOptions / LatentSacOptions, so DQN and SAC share them. Defaults from CleanRL's dqn.py and SB3, adapted as
/// the RL core's Dqn.cs (lr 2.5e-4 with SB3's linear decay, double-Q, Huber, clip 10).
/// Tried on seed 1 (real MiniLM, reply-model reward, 1000 dialogs, final greedy success over 100 dialogs; curve
/// points over 50): these defaults 11 % (curve peak 26 % at 600-700 dialogs); LearningRateDecay = false 15 % (peak
/// 28 %); ExplorationFraction = 0.5 (CleanRL) 10 % (peak 10 %); DynamicsWeight = 1 (SAC's auxiliary loss) 5 % (peak
/// 12 %; 28 % on a 500-dialog run). None is clearly better than the others at this noise (±7 points), so the
/// defaults stay the published ones and the encoder learns from the TD loss alone, as specified.</summary>
public sealed record LatentDqnOptions
{
    /// <summary>Adam learning rate of the Q-head and the encoder (CleanRL 2.5e-4).</summary>
    public double LearningRate { get; init; } = 2.5e-4;
    /// <summary>The learning rate falls linearly to 0 over the budget of real dialogs (SB3's "lin_" schedule; it held
    /// CartPole in the RL core's Dqn.cs); false keeps it constant.</summary>
    public bool LearningRateDecay { get; init; } = true;
    /// <summary>ε falls linearly from 1 to FinalEpsilon over this fraction of the dialogs after the random ones
    /// (SB3 0.1, CleanRL 0.5, the zoo's CartPole 0.16).</summary>
    public double ExplorationFraction { get; init; } = 0.2;
    /// <summary>ε at the end of the schedule (SB3 and CleanRL 0.05).</summary>
    public double FinalEpsilon { get; init; } = 0.05;
    /// <summary>Polyak coefficient of the target encoder and head per update (SAC's critics use the same 0.01).</summary>
    public double Tau { get; init; } = 0.01;
    /// <summary>When > 0: a hard copy of encoder and head every this many updates instead of Polyak (SB3/CleanRL style).</summary>
    public int TargetCopyEvery { get; init; }
    /// <summary>Global gradient-norm clip of each network (SB3 10).</summary>
    public double MaxGradNorm { get; init; } = 10;
    /// <summary>Double-Q targets Q̄(z̄', argmax Q(z', ·)).</summary>
    public bool DoubleQ { get; init; } = true;
    /// <summary>Weight of LatentSac's latent-dynamics loss beside the TD loss (0: the encoder learns from the TD loss only).</summary>
    public double DynamicsWeight { get; init; }

    public void Validate()
    {
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException("Dqn.LearningRate", LearningRate, "expected a positive finite rate");
        if (ExplorationFraction is <= 0 or > 1 || double.IsNaN(ExplorationFraction)) throw new ArgumentOutOfRangeException("Dqn.ExplorationFraction", ExplorationFraction, "expected a fraction in (0, 1]");
        if (FinalEpsilon is < 0 or > 1 || double.IsNaN(FinalEpsilon)) throw new ArgumentOutOfRangeException("Dqn.FinalEpsilon", FinalEpsilon, "expected a probability");
        if (Tau is <= 0 or > 1 || double.IsNaN(Tau)) throw new ArgumentOutOfRangeException("Dqn.Tau", Tau, "expected a fraction in (0, 1]");
        if (TargetCopyEvery < 0) throw new ArgumentOutOfRangeException("Dqn.TargetCopyEvery", TargetCopyEvery, "expected zero or more");
        if (!(MaxGradNorm > 0)) throw new ArgumentOutOfRangeException("Dqn.MaxGradNorm", MaxGradNorm, "expected a positive norm");
        if (!(DynamicsWeight >= 0)) throw new ArgumentOutOfRangeException("Dqn.DynamicsWeight", DynamicsWeight, "expected a weight >= 0");
    }
}

public sealed class LatentDqn : LatentAgent
{
    public LatentDqnOptions Dqn => Options.Dqn;
    public ParameterStore QStore { get; } = new();
    public ParameterStore QTargetStore { get; } = new();
    readonly Mlp q, qTarget;
    public Adam QOpt { get; }
    public Adam EncoderOpt { get; }
    public Adam DynamicsOpt { get; }
    readonly NanoMbpo.Diagnostics.NumericGuard qGuard, encoderGuard, dynamicsGuard;
    readonly TensorArena arena = new();
    readonly DialogBatch batch;
    long updates;

    public LatentDqn(UtteranceTable table, SellerOptions options, ulong seed, Func<KinPizzaEnv> makeEnv, IReadOnlyList<PizzaRecord>? goals = null)
        : base(table, options, seed, makeEnv, goals)
    {
        Dqn.Validate();
        var init = new Rng(seed).Fork(40);
        q = Nets.Mlp(QStore, "q.", State.Z, options.Sac.Hidden, Actions, init.Fork(3));
        qTarget = Nets.Mlp(QTargetStore, "q.", State.Z, options.Sac.Hidden, Actions, null);
        QTargetStore.CopyFrom(QStore);
        QOpt = new Adam(QStore, Dqn.LearningRate); EncoderOpt = new Adam(State.EncoderStore, Dqn.LearningRate);
        DynamicsOpt = new Adam(State.DynamicsStore, Dqn.LearningRate);
        qGuard = new(QStore, "q"); encoderGuard = new(State.EncoderStore, "latent encoder"); dynamicsGuard = new(State.DynamicsStore, "latent dynamics");
        batch = new DialogBatch(options.Sac.BatchSize, State.L);
    }

    public override string PolicyName => "dqn";
    public override IReadOnlyList<string> CsvMetrics => ["q_loss", "q_mean", "epsilon", "learning_rate", "grad_norm_q", "grad_norm_encoder", "dynamics_loss", "latent_std"];
    protected override string[] PolicyNetworks => ["encoder", "q"];
    public override IEnumerable<(string Name, ParameterStore Store, Adam? Optimizer)> Networks() =>
    [
        ("encoder", State.EncoderStore, EncoderOpt), ("encoder_target", State.EncoderTargetStore, null), ("q", QStore, QOpt),
        ("q_target", QTargetStore, null), ("dynamics", State.DynamicsStore, DynamicsOpt),
    ];

    /// <summary>ε after <paramref name="dialog"/> dialogs: 1 at the end of the random dialogs, FinalEpsilon after ExplorationFraction of the rest.</summary>
    public double Epsilon(int dialog)
    {
        double span = Dqn.ExplorationFraction * Math.Max(1, Options.ScheduleLength - Options.RandomDialogs);
        return 1.0 + Math.Clamp((dialog - Options.RandomDialogs) / span, 0, 1) * (Dqn.FinalEpsilon - 1.0);
    }

    public double LearningRate(int dialog) => Dqn.LearningRateDecay ? Dqn.LearningRate * Math.Max(0.0, 1.0 - (double)dialog / Options.ScheduleLength) : Dqn.LearningRate;

    /// <summary>Q(z, ·) of one window with the online encoder and head.</summary>
    public float[] QValues(ReadOnlySpan<int> window)
    {
        using var _ = Autograd.NoGrad();
        using var __ = arena.Use();
        return q.Forward(Tensor.FromArray(State.Encode(window, 1, target: false), 1, State.Z)).F32.ToArray();
    }

    protected override int Act(ReadOnlySpan<int> window, int dialog, bool greedy, Rng rng)
    {
        if (!greedy)
        {
            double eps = Epsilon(dialog);
            Metrics["epsilon"] = eps;
            if (rng.NextDouble() < eps) return rng.NextInt(Actions);
        }
        return LatentState.ArgMax(QValues(window));
    }

    protected override void AfterTurn(int dialog)
    {
        double lr = LearningRate(dialog);
        QOpt.LearningRate = lr; EncoderOpt.LearningRate = lr; DynamicsOpt.LearningRate = lr;
        Metrics["learning_rate"] = lr;
        for (int g = 0; g < Options.UpdatesPerStep; g++)
        {
            Real.Sample(sampleRng, batch, batch.A.Length);
            Update(batch);
        }
        Lap("dqn update");
    }

    /// <summary>One gradient step of the TD loss (and the dynamics loss if weighted) on a batch of real turns.</summary>
    public void Update(DialogBatch b)
    {
        using var _ = arena.Use();
        int B = b.Rows, nA = Actions;
        double scale = Options.Sac.RewardScale, gamma = Options.Sac.Gamma;
        var act = b.A.AsSpan(0, B).ToArray();
        var rew = new float[B]; var term = new float[B];
        for (int i = 0; i < B; i++) { rew[i] = (float)(b.R[i] * scale); term[i] = b.Term[i]; }
        var z = State.Forward(b.S, B, target: false);                       // (B,Z) with gradient
        var z2T = State.Forward(b.S2, B, target: true);                     // (B,Z) target encoder
        Tensor target;
        using (Autograd.NoGrad())
        {
            var nextQ = qTarget.Forward(z2T);                                // (B,A)
            Tensor best;
            if (Dqn.DoubleQ)
            {
                var online = q.Forward(State.Forward(b.S2, B, target: false)).F32;
                var idx = new int[B];
                for (int i = 0; i < B; i++) idx[i] = LatentState.ArgMax(online.Slice(i * nA, nA));
                best = F.Gather(nextQ, Tensor.FromArray(idx, B));
            }
            else best = F.Max(nextQ, -1);
            target = Tensor.FromArray(rew, B) + (1.0 - Tensor.FromArray(term, B)) * best * gamma;
        }
        Tensor? qsa = null;
        var loss = Nets.Loss(Step, "q", () => Losses.Huber(qsa = F.Gather(q.Forward(z), Tensor.FromArray(act, B)), target), out double lv);
        double dv = 0;
        if (Dqn.DynamicsWeight > 0) loss = loss + State.DynamicsLoss(Step, z, z2T, act, rew, out dv) * Dqn.DynamicsWeight;
        loss.Backward();
        // a non-finite gradient stops the run naming the step, the network and its first bad parameter
        Metrics["grad_norm_q"] = qGuard.CheckGradients(Step);
        Metrics["grad_norm_encoder"] = encoderGuard.CheckGradients(Step);
        GradClip.ClipGradNorm(QStore, Dqn.MaxGradNorm); GradClip.ClipGradNorm(State.EncoderStore, Dqn.MaxGradNorm);
        QOpt.Step(zeroGrad: true); EncoderOpt.Step(zeroGrad: true);
        if (Dqn.DynamicsWeight > 0) { dynamicsGuard.CheckGradients(Step); DynamicsOpt.Step(zeroGrad: true); }
        updates++;
        if (Dqn.TargetCopyEvery > 0) { if (updates % Dqn.TargetCopyEvery == 0) { QTargetStore.CopyFrom(QStore); State.EncoderTargetStore.CopyFrom(State.EncoderStore); } }
        else { QTargetStore.PolyakUpdate(QStore, Dqn.Tau); State.EncoderTargetStore.PolyakUpdate(State.EncoderStore, Dqn.Tau); }
        Metrics["q_loss"] = lv; Metrics["dynamics_loss"] = dv;
        Metrics["q_mean"] = qsa!.F32.ToArray().Average();
        Metrics["latent_std"] = LatentSac.Std(z.F32, B, State.Z);
    }

    protected override string Status() => FormattableString.Invariant(
        $"eps {Metrics.GetValueOrDefault("epsilon"):F2} lr {Metrics.GetValueOrDefault("learning_rate"):G3} q {Metrics.GetValueOrDefault("q_mean"):F2} loss {Metrics.GetValueOrDefault("q_loss"):F3} z-std {Metrics.GetValueOrDefault("latent_std"):F3}");
}
