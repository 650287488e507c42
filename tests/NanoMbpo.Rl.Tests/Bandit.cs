// Contextual bandits for fast learning-signal tests: one-step episodes (terminated), observation
// x ~ U(−1, 1). Continuous: reward −(a − 0.8·x)², best action 0.8·x. Discrete (2 actions): reward 1 when
// the action is (x > 0), else 0. An algorithm that learns anything must solve them in a few hundred steps.
using NanoMbpo.Rl;
using NanoMbpo.Rl.Envs;

namespace NanoMbpo.Rl.Tests;

sealed class Bandit(bool discrete) : IEnv
{
    double x;
    public string Name => discrete ? "bandit-discrete" : "bandit";
    public string Key => Name;
    public int ObsDim => 1;
    public int NumActions => discrete ? 2 : 0;
    public int ActionDim => 1;
    public float ActionLow => discrete ? 0 : -1;
    public float ActionHigh => 1;
    public int MaxEpisodeSteps => 1;
    public void Reset(Rng rng, Span<float> obs) { x = rng.Uniform(-1, 1); obs[0] = (float)x; }
    public StepResult Step(ReadOnlySpan<float> a, Span<float> obs)
    {
        double r = discrete ? ((int)a[0] == (x > 0 ? 1 : 0) ? 1 : 0) : -Math.Pow(a[0] - 0.8 * x, 2);
        obs[0] = (float)x;
        return new StepResult(r, true, false);
    }
    public double[] GetState() => [x];
    public void SetState(double[] s) => x = s[0];

    /// <summary>Mean reward of the agent's deterministic action over a grid of contexts.</summary>
    public static double Score(Agent agent, bool discrete)
    {
        var env = new Bandit(discrete);
        var a = new float[1]; var o = new float[1];
        double total = 0; int n = 0;
        for (double x = -0.95; x < 1; x += 0.1, n++)
        {
            env.SetState([x]); agent.Act([(float)x], a);
            total += env.Step(a, o).Reward;
        }
        return total / n;
    }
}
