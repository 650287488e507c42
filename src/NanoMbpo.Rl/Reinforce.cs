// REINFORCE with a learned baseline (Williams 1992; Sutton & Barto §13.4), read top to bottom:
// play one episode with a ~ π(·|s) = softmax(policy(s)), then compute the discounted returns
// G_t = Σ_k γ^k r_{t+k} (a truncated episode bootstraps its tail with V(s_T)), and take one step of
//   policy loss  −mean_t log π(a_t|s_t)·(G_t − V(s_t))   (the advantage is a constant)
//   value loss   ½·mean_t (V(s_t) − G_t)²
// Metrics add each network's gradient norm and mean/max |V(s)|. Discrete actions only (CartPole). Tests: tests/NanoMbpo.Rl.Tests/LearningTests.cs.
using NanoMbpo.Diagnostics;
using NanoMbpo.NN;
using NanoMbpo.Optim;
using NanoMbpo.Rl.Envs;

namespace NanoMbpo.Rl;

public sealed record ReinforceOptions
{
    public double PolicyLearningRate { get; init; } = 1e-3;
    public double ValueLearningRate { get; init; } = 1e-3;
    public double Gamma { get; init; } = 0.99;
    public int[] Hidden { get; init; } = [64, 64];
}

public sealed class Reinforce : OffPolicyAgent
{
    public ReinforceOptions Options { get; }
    public override string Algo => "reinforce";
    public override string[] MetricNames => ["policy_loss", "value_loss", "grad_norm_policy", "grad_norm_value", "v_abs_mean", "v_abs_max"];
    public ParameterStore PolicyStore { get; } = new();
    public ParameterStore ValueStore { get; } = new();
    readonly Mlp policy, value;
    readonly Adam policyOpt, valueOpt;
    readonly NumericGuard policyGuard, valueGuard;
    readonly Rng actRng;
    // the current episode (on-policy: used once, then cleared)
    readonly List<float> epObs = [], epRewards = [];
    readonly List<int> epActions = [];
    readonly ReplayBuffer scratch;   // EnvStep stores here; REINFORCE keeps its own episode lists

    public Reinforce(IEnv env, ulong seed, ReinforceOptions? options = null) : base(env, seed)
    {
        if (env.NumActions == 0) throw new ArgumentException($"reinforce: {env.Name} has continuous actions; use cartpole.");
        Options = options ?? new ReinforceOptions();
        var init = new Rng(seed);
        policy = Nets.Mlp(PolicyStore, "policy.", env.ObsDim, Options.Hidden, env.NumActions, init.Fork(1));
        value = Nets.Mlp(ValueStore, "value.", env.ObsDim, Options.Hidden, 1, init.Fork(2));
        policyOpt = new Adam(PolicyStore, Options.PolicyLearningRate);
        valueOpt = new Adam(ValueStore, Options.ValueLearningRate);
        policyGuard = new NumericGuard(PolicyStore, "policy"); valueGuard = new NumericGuard(ValueStore, "value");
        actRng = new Rng(seed).Fork(2);
        scratch = new ReplayBuffer(1, env.ObsDim, 1);
    }

    public override void TrainStep()
    {
        // ---- act: sample π(·|s) ------------------------------------------------------------------
        using (Autograd.NoGrad())
            action[0] = actRng.Categorical(F.Softmax(policy.Forward(Tensor.FromArray(obs, 1, obs.Length))).F32);
        epObs.AddRange(obs); epActions.Add((int)action[0]);
        var res = EnvStep(scratch);
        epRewards.Add((float)res.Reward);
        // ---- learn at the end of the episode -------------------------------------------------------
        if (res.Done) Update(res.Truncated && !res.Terminated ? nextObs : null);
    }

    void Update(float[]? bootstrapObs)
    {
        int T = epRewards.Count, od = Env.ObsDim;
        var s = Tensor.FromArray(epObs.ToArray(), T, od);
        double tail = 0;
        if (bootstrapObs is not null) using (Autograd.NoGrad()) tail = value.Forward(Tensor.FromArray(bootstrapObs, 1, od)).F32[0];
        var returns = new float[T];
        for (int t = T - 1; t >= 0; t--) returns[t] = (float)(tail = epRewards[t] + Options.Gamma * tail);
        var g = Tensor.FromArray(returns, T, 1);
        // ---- value (baseline) ----------------------------------------------------------------------
        var v = value.Forward(s);
        var adv = g - v.Detach();
        var valueLoss = Nets.Loss(Step, "value", () => 0.5 * F.MseLoss(v, g), out double vl);
        Metrics["value_loss"] = vl;
        AbsStats("v", v);
        valueLoss.Backward();
        Metrics["grad_norm_value"] = CheckGradients(valueGuard, ValueStore);
        valueOpt.Step(zeroGrad: true);
        // ---- policy gradient ------------------------------------------------------------------------
        var logp = F.Gather(F.LogSoftmax(policy.Forward(s)), Tensor.FromArray(epActions.ToArray(), T));
        var policyLoss = Nets.Loss(Step, "policy", () => -F.MeanAll(logp * F.Reshape(adv, T)), out double pl);
        Metrics["policy_loss"] = pl;
        policyLoss.Backward();
        Metrics["grad_norm_policy"] = CheckGradients(policyGuard, PolicyStore);
        policyOpt.Step(zeroGrad: true);
        epObs.Clear(); epActions.Clear(); epRewards.Clear();
    }

    public override void Act(ReadOnlySpan<float> o, Span<float> act)
    {
        using var _ = Autograd.NoGrad();
        var l = policy.Forward(Tensor.FromArray(o.ToArray(), 1, o.Length)).F32;
        int best = 0;
        for (int i = 1; i < l.Length; i++) if (l[i] > l[best]) best = i;
        act[0] = best;
    }

    public override IEnumerable<(string, ParameterStore, Adam?)> Networks() => [("policy", PolicyStore, policyOpt), ("value", ValueStore, valueOpt)];

    public override void WriteState(BinaryWriter w)
    {
        base.WriteState(w); actRng.Write(w);
        w.Write(epRewards.Count);
        foreach (var x in epObs) w.Write(x);
        foreach (var x in epActions) w.Write(x);
        foreach (var x in epRewards) w.Write(x);
    }

    public override void ReadState(BinaryReader r)
    {
        base.ReadState(r);
        StateReader.At(r, "act_rng"); actRng.Read(r);
        int n = StateReader.Count(r, "episode_steps", 4L * Env.ObsDim + 8);   // obs, action and reward per step
        epObs.Clear(); epActions.Clear(); epRewards.Clear();
        StateReader.At(r, "episode_obs");
        for (int i = 0; i < n * Env.ObsDim; i++) epObs.Add(r.ReadSingle());
        StateReader.At(r, "episode_actions");
        for (int i = 0; i < n; i++)
        {
            int a = r.ReadInt32();
            if (a < 0 || a >= Env.NumActions) throw new InvalidDataException($"field 'episode_actions': action {a} is outside 0..{Env.NumActions - 1}.");
            epActions.Add(a);
        }
        StateReader.At(r, "episode_rewards");
        for (int i = 0; i < n; i++) epRewards.Add(r.ReadSingle());
    }
}
