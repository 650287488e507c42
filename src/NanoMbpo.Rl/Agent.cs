// Agent: what the run loop (RunLoop.cs) needs from every algorithm — one environment step with its
// learning (TrainStep), a deterministic action for evaluation (Act), the latest metrics, and the
// networks, optimizers, buffers and extra state a checkpoint must hold to resume exactly.
// OffPolicyAgent adds the shared environment bookkeeping: current observation, episode return and
// length, finished-episode returns, the environment's seeded stream and one replay buffer.
// CheckGradients and AbsStats give every algorithm its grad_norm_<network> and q/v_abs_mean/max metrics.
// Tested through tests/NanoMbpo.Rl.Tests/ResumeTests.cs and the algorithm tests.
using NanoMbpo.Diagnostics;
using NanoMbpo.Optim;
using NanoMbpo.Rl.Envs;

namespace NanoMbpo.Rl;

public abstract class Agent
{
    public IEnv Env { get; }
    public ulong Seed { get; }
    /// <summary>Environment steps taken so far.</summary>
    public long Step { get; protected set; }
    /// <summary>Latest scalar metrics (losses, α, ε …) by name; the run loop writes them to the CSV.</summary>
    public SortedDictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);
    /// <summary>Returns of episodes finished since the run loop last collected them.</summary>
    public List<double> FinishedReturns { get; } = [];

    protected Agent(IEnv env, ulong seed) { Env = env; Seed = seed; }

    /// <summary>Sets the step a learner driven by another agent (MBPO's SAC) reports in its errors.</summary>
    internal void FollowStep(long step) => Step = step;

    public abstract string Algo { get; }
    public string EnvKey => Env.Key;
    /// <summary>The metric names this algorithm reports (the CSV's columns after the fixed ones).</summary>
    public abstract string[] MetricNames { get; }
    /// <summary>One environment step and whatever learning the algorithm does at that step.</summary>
    public abstract void TrainStep();
    /// <summary>The deterministic (greedy / mean) action for an observation.</summary>
    public abstract void Act(ReadOnlySpan<float> obs, Span<float> action);
    /// <summary>Every network (name, parameters) and its optimizer, if any.</summary>
    public abstract IEnumerable<(string Name, ParameterStore Store, Adam? Optimizer)> Networks();
    /// <summary>Replay buffers by name (saved in checkpoints).</summary>
    public virtual IEnumerable<(string Name, ReplayBuffer Buffer)> Buffers() { yield break; }

    /// <summary>Test hook: called with (network, store) after each backward pass, before the gradient check, so a
    /// test can plant a NaN in a gradient. Null in every real run.</summary>
    internal Action<string, ParameterStore>? GradientFault { get; set; }

    /// <summary>The gradient norm of <paramref name="guard"/>'s network (before any clipping); a NaN/Inf gradient
    /// throws NonFiniteException naming the step, the network and the first parameter holding it.</summary>
    protected double CheckGradients(NumericGuard guard, ParameterStore store)
    {
        GradientFault?.Invoke(guard.Network, store);
        return guard.CheckGradients(Step);
    }

    /// <summary>Mean and max |x| over the values of <paramref name="batches"/> (the batch's Q or V estimates)
    /// into Metrics[prefix_abs_mean] and Metrics[prefix_abs_max]: their growth shows a divergence early.</summary>
    protected void AbsStats(string prefix, params Tensor[] batches)
    {
        double sum = 0, max = 0; long n = 0;
        foreach (var t in batches)
            foreach (float v in t.To(Device.Cpu).F32)
            {
                double a = Math.Abs(v);
                sum += a; n++;
                if (a > max) max = a;
            }
        Metrics[prefix + "_abs_mean"] = n > 0 ? sum / n : 0;
        Metrics[prefix + "_abs_max"] = max;
    }

    /// <summary>Everything else that must survive a checkpoint (RNG streams, env state, counters).</summary>
    public virtual void WriteState(BinaryWriter w) => w.Write(Step);
    public virtual void ReadState(BinaryReader r)
    {
        StateReader.At(r, "step");
        long step = r.ReadInt64();
        if (step < 0) throw new InvalidDataException($"field 'step': {step} is negative.");
        Step = step;
    }
}

public abstract class OffPolicyAgent : Agent
{
    protected readonly float[] obs, nextObs, action;
    protected readonly Rng envRng;
    protected double episodeReturn;
    protected int episodeLength;

    protected OffPolicyAgent(IEnv env, ulong seed) : base(env, seed)
    {
        obs = new float[env.ObsDim]; nextObs = new float[env.ObsDim]; action = new float[env.ActionDim];
        envRng = new Rng(seed).Fork(1);
        env.Reset(envRng, obs);
    }

    /// <summary>Applies <see cref="action"/>, stores the transition (terminated only, so truncated
    /// ones bootstrap), and resets at an episode's end. Returns the step result.</summary>
    protected StepResult EnvStep(ReplayBuffer buffer)
    {
        var res = Env.Step(action, nextObs);
        buffer.Add(obs, action, res.Reward, nextObs, res.Terminated);
        episodeReturn += res.Reward; episodeLength++;
        Step++;
        if (res.Done)
        {
            FinishedReturns.Add(episodeReturn);
            episodeReturn = 0; episodeLength = 0;
            Env.Reset(envRng, obs);
        }
        else nextObs.CopyTo(obs, 0);
        return res;
    }

    public override void WriteState(BinaryWriter w)
    {
        base.WriteState(w);
        envRng.Write(w);
        var s = Env.GetState();
        w.Write(s.Length); foreach (var v in s) w.Write(v);
        foreach (var v in obs) w.Write(v);
        w.Write(episodeReturn); w.Write(episodeLength);
    }

    public override void ReadState(BinaryReader r)
    {
        base.ReadState(r);
        StateReader.At(r, "env_rng");
        envRng.Read(r);
        var s = new double[StateReader.Count(r, "env_state", 8, exact: Env.GetState().Length)];
        for (int i = 0; i < s.Length; i++) s[i] = StateReader.Finite(r, "env_state");
        StateReader.At(r, "obs");
        for (int i = 0; i < obs.Length; i++)
            if (!float.IsFinite(obs[i] = r.ReadSingle())) throw new InvalidDataException($"field 'obs': {obs[i]} is not finite.");
        episodeReturn = StateReader.Finite(r, "episode_return");
        StateReader.At(r, "episode_length");
        episodeLength = r.ReadInt32();
        if (episodeLength < 0) throw new InvalidDataException($"field 'episode_length': {episodeLength} is negative.");
        Env.SetState(s);
    }
}
