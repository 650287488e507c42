// The environment interface of the RL algorithms (Gymnasium's API in C#): Reset fills the first
// observation, Step applies an action and reports reward, termination (a true end: no bootstrap)
// and truncation (the time limit: the value of the next state still counts). Discrete environments
// read the action index from action[0]. State get/set lets a checkpoint resume mid-episode.
// Tests: tests/NanoMbpo.Rl.Tests/EnvTests.cs.
namespace NanoMbpo.Rl.Envs;

/// <param name="Terminated">the MDP ended (pole fell): the target does not bootstrap.</param>
/// <param name="Truncated">the time limit cut the episode: the target still bootstraps.</param>
public readonly record struct StepResult(double Reward, bool Terminated, bool Truncated)
{
    public bool Done => Terminated || Truncated;
}

public interface IEnv
{
    string Name { get; }
    /// <summary>The short name `--env` takes (pendulum, cartpole, cartpole-cont).</summary>
    string Key { get; }
    int ObsDim { get; }
    /// <summary>Number of discrete actions; 0 for a continuous action space.</summary>
    int NumActions { get; }
    /// <summary>Dimensions of a continuous action (1 for a discrete one: the index).</summary>
    int ActionDim { get; }
    /// <summary>Bounds of every continuous action component.</summary>
    float ActionLow { get; }
    float ActionHigh { get; }
    int MaxEpisodeSteps { get; }
    void Reset(Rng rng, Span<float> obs);
    StepResult Step(ReadOnlySpan<float> action, Span<float> obs);
    /// <summary>The full internal state (physics and the step counter), for checkpoints.</summary>
    double[] GetState();
    void SetState(double[] state);
}

public static class Envs
{
    public static readonly string[] Names = ["pendulum", "cartpole", "cartpole-cont"];

    /// <summary>The termination rule of an environment as a function of its observation (what MBPO's
    /// model rollouts use; the model predicts rewards and states, not ends).</summary>
    public static bool IsTerminal(string key, ReadOnlySpan<float> obs) => key switch
    {
        "cartpole" or "cartpole-cont" => Math.Abs(obs[0]) > CartPole.XThreshold || Math.Abs(obs[2]) > CartPole.ThetaThreshold,
        _ => false,
    };

    public static IEnv Make(string name) => name switch
    {
        "pendulum" => new Pendulum(),
        "cartpole" => new CartPole(continuous: false),
        "cartpole-cont" => new CartPole(continuous: true),
        _ => throw new ArgumentException($"unknown environment '{name}'; expected one of {string.Join(", ", Names)}.", nameof(name)),
    };
}
