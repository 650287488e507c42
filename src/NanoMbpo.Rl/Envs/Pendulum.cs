// Pendulum-v1 exactly as Gymnasium's classic_control/pendulum.py: g 10, m 1, l 1, dt 0.05,
// max speed 8, max torque 2; the cost θ² + 0.1·θ̇² + 0.001·u² uses the normalised angle of the
// state *before* the update; semi-implicit Euler (θ̇ first, then θ with the new θ̇); observation
// (cos θ, sin θ, θ̇) in float32; start θ ~ U[−π, π], θ̇ ~ U[−1, 1]; truncated at 200 steps (never
// terminated). Physics in double like numpy. Tests: tests/NanoMbpo.Rl.Tests/EnvTests.cs.
namespace NanoMbpo.Rl.Envs;

public sealed class Pendulum : IEnv
{
    public const double G = 10.0, M = 1.0, L = 1.0, Dt = 0.05, MaxSpeed = 8.0, MaxTorque = 2.0;
    double th, thdot;
    int t;

    public string Name => "Pendulum-v1";
    public string Key => "pendulum";
    public int ObsDim => 3;
    public int NumActions => 0;
    public int ActionDim => 1;
    public float ActionLow => -(float)MaxTorque;
    public float ActionHigh => (float)MaxTorque;
    public int MaxEpisodeSteps => 200;

    public void Reset(Rng rng, Span<float> obs)
    {
        th = rng.Uniform(-Math.PI, Math.PI);
        thdot = rng.Uniform(-1.0, 1.0);
        t = 0;
        Observe(obs);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> obs)
    {
        double u = Math.Clamp((double)action[0], -MaxTorque, MaxTorque);
        double costs = Sq(AngleNormalize(th)) + 0.1 * thdot * thdot + 0.001 * u * u;
        double newthdot = thdot + (3 * G / (2 * L) * Math.Sin(th) + 3.0 / (M * L * L) * u) * Dt;
        newthdot = Math.Clamp(newthdot, -MaxSpeed, MaxSpeed);
        th += newthdot * Dt;
        thdot = newthdot;
        t++;
        Observe(obs);
        return new StepResult(-costs, Terminated: false, Truncated: t >= MaxEpisodeSteps);
    }

    /// <summary>((x + π) mod 2π) − π with numpy's floored modulo (result in [−π, π)).</summary>
    public static double AngleNormalize(double x)
    {
        double y = (x + Math.PI) % (2 * Math.PI);
        if (y < 0) y += 2 * Math.PI;
        return y - Math.PI;
    }

    static double Sq(double x) => x * x;

    void Observe(Span<float> obs) { obs[0] = (float)Math.Cos(th); obs[1] = (float)Math.Sin(th); obs[2] = (float)thdot; }

    public double[] GetState() => [th, thdot, t];
    public void SetState(double[] s) { th = s[0]; thdot = s[1]; t = (int)s[2]; }
}
