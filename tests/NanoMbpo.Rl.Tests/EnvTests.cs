// Environment transitions against values computed by hand from Gymnasium's equations (a separate
// Python evaluation of pendulum.py / cartpole.py formulas, not this code), the observation layout,
// start distributions, and the termination/truncation distinction that decides bootstrapping.
using NanoMbpo.Rl;
using NanoMbpo.Rl.Envs;
using Xunit;

namespace NanoMbpo.Rl.Tests;

public class EnvTests
{
    [Fact]
    public void PendulumStepMatchesGymnasium()
    {
        var env = new Pendulum();
        var o = new float[3];
        env.SetState([1.0, 0.5, 0]);
        var r = env.Step([1.5f], o);
        Assert.Equal(-1.02725, r.Reward, 1e-9);   // cost on the state before the update
        var s = env.GetState();
        Assert.Equal(1.0678051619302962, s[0], 1e-12);
        Assert.Equal(1.3561032386059226, s[1], 1e-12);
        Assert.Equal(0.48204838409011624, o[0], 1e-6);
        Assert.Equal(0.8761445973103457, o[1], 1e-6);
        Assert.Equal(1.3561032386059226, o[2], 1e-6);
        Assert.False(r.Terminated); Assert.False(r.Truncated);
    }

    [Fact]
    public void PendulumClipsTorqueAndSpeedAndNormalisesTheAngle()
    {
        var env = new Pendulum();
        var o = new float[3];
        env.SetState([4.0, -7.9, 0]);
        var r = env.Step([5f], o);   // torque clipped to 2, speed to −8, θ = 4 costs as 4 − 2π
        Assert.Equal(-11.457935146920741, r.Reward, 1e-9);
        Assert.Equal(3.6, env.GetState()[0], 1e-12);
        Assert.Equal(-8.0, env.GetState()[1], 1e-12);
        Assert.Equal(-Math.PI, Pendulum.AngleNormalize(Math.PI), 1e-12);   // numpy's floored modulo
        Assert.Equal(Math.PI - 0.5, Pendulum.AngleNormalize(-Math.PI - 0.5), 1e-12);
    }

    [Fact]
    public void PendulumTruncatesAt200AndNeverTerminates()
    {
        var env = new Pendulum();
        var o = new float[3];
        env.Reset(new Rng(3), o);
        for (int t = 1; t <= 200; t++)
        {
            var r = env.Step([0f], o);
            Assert.False(r.Terminated);
            Assert.Equal(t == 200, r.Truncated);
        }
    }

    [Fact]
    public void ResetsDrawFromGymnasiumsRanges()
    {
        var rng = new Rng(5);
        var p = new Pendulum(); var c = new CartPole(false);
        var o3 = new float[3]; var o4 = new float[4];
        double maxTh = 0, maxThd = 0, maxC = 0;
        for (int i = 0; i < 2000; i++)
        {
            p.Reset(rng, o3);
            var s = p.GetState();
            maxTh = Math.Max(maxTh, Math.Abs(s[0])); maxThd = Math.Max(maxThd, Math.Abs(s[1]));
            Assert.True(Math.Abs(s[0]) <= Math.PI && Math.Abs(s[1]) <= 1.0);
            Assert.Equal((float)Math.Cos(s[0]), o3[0]);
            c.Reset(rng, o4);
            foreach (var v in c.GetState()[..4]) { Assert.True(Math.Abs(v) <= 0.05); maxC = Math.Max(maxC, Math.Abs(v)); }
        }
        Assert.True(maxTh > 3.0 && maxThd > 0.95 && maxC > 0.049);   // the full ranges are used
    }

    [Fact]
    public void CartPoleStepMatchesGymnasium()
    {
        var env = new CartPole(false);
        var o = new float[4];
        env.SetState([0, 0, 0, 0, 0]);
        var r = env.Step([1f], o);
        var s = env.GetState();
        double[] want = [0.0, 0.1951219512195122, 0.0, -0.2926829268292683];
        for (int i = 0; i < 4; i++) Assert.Equal(want[i], s[i], 1e-12);
        Assert.Equal(1.0, r.Reward);
        env.SetState([0.1, -0.2, 0.03, 0.4, 0]);
        env.Step([0f], o);
        s = env.GetState();
        Assert.Equal(0.096, s[0], 1e-12); Assert.Equal(-0.3955343820057583, s[1], 1e-12);
        Assert.Equal(0.038, s[2], 1e-12); Assert.Equal(0.7019882742589485, s[3], 1e-12);
        Assert.Equal((float)s[3], o[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => env.Step([2f], o));
    }

    [Fact]
    public void ContinuousCartPoleScalesTheForce()
    {
        var env = new CartPole(true);
        var o = new float[4];
        env.SetState([0, 0, 0, 0, 0]);
        env.Step([1f], o);
        Assert.Equal(0.1951219512195122, env.GetState()[1], 1e-12);   // a = 1 is the discrete push right
        env.SetState([0, 0, 0, 0, 0]);
        env.Step([0.5f], o);
        Assert.Equal(0.5 * 0.1951219512195122, env.GetState()[1], 1e-12);   // force 10·a
        env.SetState([0, 0, 0, 0, 0]);
        env.Step([-3f], o);
        Assert.Equal(-0.1951219512195122, env.GetState()[1], 1e-12);   // clipped to −1
    }

    [Fact]
    public void CartPoleTerminatesOnAngleAndPositionAndTruncatesAt500()
    {
        var env = new CartPole(false);
        var o = new float[4];
        double limit = 12 * 2 * Math.PI / 360;
        env.SetState([0, 0, limit - 1e-4, 1.0, 0]);   // θ passes 12° this step
        var r = env.Step([1f], o);
        Assert.True(r.Terminated); Assert.False(r.Truncated); Assert.Equal(1.0, r.Reward);
        env.SetState([2.39, 1.0, 0, 0, 0]);   // x passes 2.4
        Assert.True(env.Step([1f], o).Terminated);
        env.SetState([0, 0, 0, 0, 499]);
        r = env.Step([1f], o);
        Assert.False(r.Terminated); Assert.True(r.Truncated);
    }

    [Fact]
    public void BufferStoresTerminationButNotTruncation()
    {
        // An agent's transitions: Pendulum's time-limit ends are stored as non-terminal (they bootstrap).
        var agent = new Sac(new Pendulum(), 1, new SacOptions { LearningStarts = 1000, Hidden = [8, 8], BufferSize = 1000 });
        for (int i = 0; i < 400; i++) agent.TrainStep();
        Assert.Equal(2, agent.FinishedReturns.Count);
        var b = new Batch(1, 3, 1);
        for (int i = 0; i < 400; i++) { agent.Buffer.CopyTo(i, b, 0); Assert.Equal(0f, b.Terminated[0]); }
        var env = new CartPole(false);
        var buf = new ReplayBuffer(10, 4, 1);
        var o = new float[4]; var o2 = new float[4];
        env.SetState([0, 0, 0.2, 1.0, 0]);
        var r = env.Step([1f], o2);
        buf.Add(o, [1f], r.Reward, o2, r.Terminated);
        buf.CopyTo(0, b = new Batch(1, 4, 1), 0);
        Assert.Equal(1f, b.Terminated[0]);
    }
}
