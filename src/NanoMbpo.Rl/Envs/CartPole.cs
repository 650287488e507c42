// CartPole-v1 exactly as Gymnasium's classic_control/cartpole.py (Euler integrator): g 9.8, cart
// 1.0, pole 0.1, half-length 0.5, force 10, τ 0.02; terminated when |x| > 2.4 or |θ| > 12°
// (reward 1 on every step, the terminating one included); truncated at 500 steps; start state
// U(−0.05, 0.05)⁴; physics in double, observation float32. The continuous variant applies force
// 10·clip(a, −1, 1) for a ∈ [−1, 1] (same dynamics, rewards and limits).
// Tests: tests/NanoMbpo.Rl.Tests/EnvTests.cs.
namespace NanoMbpo.Rl.Envs;

public sealed class CartPole(bool continuous) : IEnv
{
    public const double Gravity = 9.8, MassCart = 1.0, MassPole = 0.1, TotalMass = MassCart + MassPole, Length = 0.5,
        PoleMassLength = MassPole * Length, ForceMag = 10.0, Tau = 0.02, XThreshold = 2.4,
        ThetaThreshold = 12 * 2 * Math.PI / 360;
    double x, xDot, theta, thetaDot;
    int t;

    public bool Continuous { get; } = continuous;
    public string Name => Continuous ? "CartPoleContinuous" : "CartPole-v1";
    public string Key => Continuous ? "cartpole-cont" : "cartpole";
    public int ObsDim => 4;
    public int NumActions => Continuous ? 0 : 2;
    public int ActionDim => 1;
    public float ActionLow => Continuous ? -1f : 0f;
    public float ActionHigh => Continuous ? 1f : 1f;
    public int MaxEpisodeSteps => 500;

    public void Reset(Rng rng, Span<float> obs)
    {
        x = rng.Uniform(-0.05, 0.05); xDot = rng.Uniform(-0.05, 0.05);
        theta = rng.Uniform(-0.05, 0.05); thetaDot = rng.Uniform(-0.05, 0.05);
        t = 0;
        Observe(obs);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> obs)
    {
        double force;
        if (Continuous) force = ForceMag * Math.Clamp((double)action[0], -1.0, 1.0);
        else
        {
            int a = (int)action[0];
            if (a is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(action), $"CartPole-v1: action must be 0 or 1, got {action[0]}.");
            force = a == 1 ? ForceMag : -ForceMag;
        }
        double cos = Math.Cos(theta), sin = Math.Sin(theta);
        double temp = (force + PoleMassLength * thetaDot * thetaDot * sin) / TotalMass;
        double thetaAcc = (Gravity * sin - cos * temp) / (Length * (4.0 / 3.0 - MassPole * cos * cos / TotalMass));
        double xAcc = temp - PoleMassLength * thetaAcc * cos / TotalMass;
        x += Tau * xDot;
        xDot += Tau * xAcc;
        theta += Tau * thetaDot;
        thetaDot += Tau * thetaAcc;
        t++;
        Observe(obs);
        bool terminated = x < -XThreshold || x > XThreshold || theta < -ThetaThreshold || theta > ThetaThreshold;
        return new StepResult(1.0, terminated, Truncated: t >= MaxEpisodeSteps);   // TimeLimit sets both when they coincide
    }

    void Observe(Span<float> obs) { obs[0] = (float)x; obs[1] = (float)xDot; obs[2] = (float)theta; obs[3] = (float)thetaDot; }

    public double[] GetState() => [x, xDot, theta, thetaDot, t];
    public void SetState(double[] s) { x = s[0]; xDot = s[1]; theta = s[2]; thetaDot = s[3]; t = (int)s[4]; }
}
