// REINFORCE with a learned baseline (Williams 1992; Sutton & Barto §13.4) in the seller's latent space, the
// on-policy baseline of the MBPO-SAC agent on the same harness (LatentAgent's loop and budget of real
// dialogs). A policy head and a value head (SAC's hidden sizes) read z = LatentEncoder(window), the same
// encoder as LatentSac's, trained through both losses. After every DialogsPerUpdate dialogs sampled from
// π (after the random warm-up dialogs, which it does not learn from), one step on their turns:
//   G_t = Σ_k γ^k s·r_{t+k}   (dialogs end within MaxTurns, so every return is complete; γ, s: LatentSac's)
//   loss = −mean_t log π(a_t|z_t)·(G_t − V(z_t)) − β·mean_t H(π(·|z_t)) + c·½·mean_t (V(z_t) − G_t)²
// with the advantage a constant and gradient-norm clipping of each network.
// Tested by tests/NanoMbpo.Agent.Tests/BaselineTests.cs (determinism, checkpoint, NaN naming).
using NanoMbpo.Dialog;
using NanoMbpo.NN;
using NanoMbpo.Optim;
using NanoMbpo.Rl;

namespace NanoMbpo.Agent;

/// <summary>REINFORCE's own hyperparameters (the encoder, head sizes, γ and the reward scale are LatentSac's).
/// Learning rates as the RL core's Reinforce.cs (1e-3) for the heads, LatentSac's 3e-4 for the Transformer encoder.
/// Seed 1 (real MiniLM, 1000 dialogs): 0 % greedy success with EntropyCoef 0.01 (the greedy policy learns to end the
/// dialog within 2-6 turns) and 0 % with 0.1 (entropy stays near log 30, greedy ends at turn 2).</summary>
public sealed record LatentReinforceOptions
{
    /// <summary>Adam learning rate of the policy head.</summary>
    public double PolicyLearningRate { get; init; } = 1e-3;
    /// <summary>Adam learning rate of the value head (the baseline).</summary>
    public double ValueLearningRate { get; init; } = 1e-3;
    /// <summary>Adam learning rate of the latent encoder (LatentSac's).</summary>
    public double EncoderLearningRate { get; init; } = 3e-4;
    /// <summary>Dialogs per update (1 = one update per dialog).</summary>
    public int DialogsPerUpdate { get; init; } = 1;
    /// <summary>β, the entropy bonus's weight (0 = plain REINFORCE; SB3's A2C 0, PPO on discrete tasks often 0.01).</summary>
    public double EntropyCoef { get; init; } = 0.01;
    /// <summary>c, the weight of the value loss in the encoder's objective (SB3 A2C 0.5).</summary>
    public double ValueCoef { get; init; } = 0.5;
    /// <summary>Global gradient-norm clip of each network (SB3 A2C 0.5).</summary>
    public double MaxGradNorm { get; init; } = 0.5;

    public void Validate()
    {
        foreach (var (n, v) in new[] { ("PolicyLearningRate", PolicyLearningRate), ("ValueLearningRate", ValueLearningRate), ("EncoderLearningRate", EncoderLearningRate), ("MaxGradNorm", MaxGradNorm) })
            if (!(v > 0) || double.IsInfinity(v)) throw new ArgumentOutOfRangeException("Reinforce." + n, v, "expected a positive finite value");
        if (DialogsPerUpdate < 1) throw new ArgumentOutOfRangeException("Reinforce.DialogsPerUpdate", DialogsPerUpdate, "expected at least 1");
        if (!(EntropyCoef >= 0) || !(ValueCoef >= 0)) throw new ArgumentOutOfRangeException("Reinforce.EntropyCoef", EntropyCoef, "expected weights >= 0");
    }
}

public sealed class LatentReinforce : LatentAgent
{
    public LatentReinforceOptions Reinforce => Options.Reinforce;
    public ParameterStore PolicyStore { get; } = new();
    public ParameterStore ValueStore { get; } = new();
    readonly Mlp policy, value;
    public Adam PolicyOpt { get; }
    public Adam ValueOpt { get; }
    public Adam EncoderOpt { get; }
    readonly NanoMbpo.Diagnostics.NumericGuard policyGuard, valueGuard, encoderGuard;
    readonly TensorArena arena = new();
    int pendingDialogs, pendingTurns;

    public LatentReinforce(UtteranceTable table, SellerOptions options, ulong seed, Func<KinPizzaEnv> makeEnv, IReadOnlyList<PizzaRecord>? goals = null)
        : base(table, options, seed, makeEnv, goals)
    {
        Reinforce.Validate();
        var init = new Rng(seed).Fork(40);
        policy = Nets.Mlp(PolicyStore, "policy.", State.Z, options.Sac.Hidden, Actions, init.Fork(2));
        value = Nets.Mlp(ValueStore, "value.", State.Z, options.Sac.Hidden, 1, init.Fork(3));
        PolicyOpt = new Adam(PolicyStore, Reinforce.PolicyLearningRate); ValueOpt = new Adam(ValueStore, Reinforce.ValueLearningRate);
        EncoderOpt = new Adam(State.EncoderStore, Reinforce.EncoderLearningRate);
        policyGuard = new(PolicyStore, "policy"); valueGuard = new(ValueStore, "value"); encoderGuard = new(State.EncoderStore, "latent encoder");
    }

    public override string PolicyName => "reinforce";
    public override IReadOnlyList<string> CsvMetrics => ["policy_loss", "value_loss", "entropy", "return_mean", "v_mean", "grad_norm_policy", "grad_norm_value", "grad_norm_encoder", "latent_std"];
    protected override string[] PolicyNetworks => ["encoder", "policy"];
    public override IEnumerable<(string Name, ParameterStore Store, Adam? Optimizer)> Networks() =>
        [("encoder", State.EncoderStore, EncoderOpt), ("policy", PolicyStore, PolicyOpt), ("value", ValueStore, ValueOpt)];

    /// <summary>π(·|z) of one window.</summary>
    public float[] Probs(ReadOnlySpan<int> window)
    {
        using var _ = Autograd.NoGrad();
        using var __ = arena.Use();
        return F.Softmax(policy.Forward(Tensor.FromArray(State.Encode(window, 1, target: false), 1, State.Z))).F32.ToArray();
    }

    protected override int Act(ReadOnlySpan<int> window, int dialog, bool greedy, Rng rng)
    {
        var p = Probs(window);
        return greedy ? LatentState.ArgMax(p) : rng.Categorical(p);
    }

    protected override void AfterTurn(int dialog) { }

    protected override void AfterDialog(int dialog, int turns)
    {
        if (dialog < Options.RandomDialogs) return;   // on-policy: the uniform warm-up dialogs are not π's
        pendingDialogs++; pendingTurns += turns;
        if (pendingDialogs < Reinforce.DialogsPerUpdate) return;
        Update(pendingTurns);
        pendingDialogs = pendingTurns = 0;
        Lap("reinforce update");
    }

    /// <summary>One policy-gradient step on the newest <paramref name="n"/> real turns (whole dialogs, oldest first).</summary>
    public void Update(int n)
    {
        using var _ = arena.Use();
        int L = State.L, nA = Actions;
        var windows = new int[n * L]; var act = new int[n]; var ret = new float[n];
        double g = 0, scale = Options.Sac.RewardScale, gamma = Options.Sac.Gamma;
        for (int t = n - 1; t >= 0; t--)   // newest first: returns-to-go restart at each dialog's end
        {
            int k = Real.Recent(n - 1 - t);
            Real.Window(k).CopyTo(windows.AsSpan(t * L, L));
            act[t] = Real.Action(k);
            if (Real.Terminated(k)) g = 0;
            ret[t] = (float)(g = Real.Reward(k) * scale + gamma * g);
        }
        var z = State.Forward(windows, n, target: false);                      // (n,Z)
        var v = F.Reshape(value.Forward(z), n);                                 // (n)
        var G = Tensor.FromArray(ret, n);
        var adv = Tensor.FromArray((G - v).F32.ToArray(), n);                   // a constant
        var logits = policy.Forward(z);
        var logp = F.LogSoftmax(logits); var probs = F.Softmax(logits);
        var entropy = -F.Sum(probs * logp, -1);                                 // (n)
        var policyLoss = Nets.Loss(Step, "policy", () => -F.MeanAll(F.Gather(logp, Tensor.FromArray(act, n)) * adv) - F.MeanAll(entropy) * Reinforce.EntropyCoef, out double pl);
        var valueLoss = Nets.Loss(Step, "value", () => 0.5 * F.MseLoss(v, G), out double vl);
        (policyLoss + valueLoss * Reinforce.ValueCoef).Backward();
        Metrics["grad_norm_policy"] = policyGuard.CheckGradients(Step);
        Metrics["grad_norm_value"] = valueGuard.CheckGradients(Step);
        Metrics["grad_norm_encoder"] = encoderGuard.CheckGradients(Step);
        GradClip.ClipGradNorm(PolicyStore, Reinforce.MaxGradNorm); GradClip.ClipGradNorm(ValueStore, Reinforce.MaxGradNorm);
        GradClip.ClipGradNorm(State.EncoderStore, Reinforce.MaxGradNorm);
        PolicyOpt.Step(zeroGrad: true); ValueOpt.Step(zeroGrad: true); EncoderOpt.Step(zeroGrad: true);
        Metrics["policy_loss"] = pl; Metrics["value_loss"] = vl;
        Metrics["entropy"] = entropy.F32.ToArray().Average();
        Metrics["return_mean"] = ret.Average(); Metrics["v_mean"] = v.F32.ToArray().Average();
        Metrics["latent_std"] = LatentSac.Std(z.F32, n, State.Z);
    }

    protected override string Status() => FormattableString.Invariant(
        $"entropy {Metrics.GetValueOrDefault("entropy"):F2} G {Metrics.GetValueOrDefault("return_mean"):F2} V {Metrics.GetValueOrDefault("v_mean"):F2} z-std {Metrics.GetValueOrDefault("latent_std"):F3}");
}
