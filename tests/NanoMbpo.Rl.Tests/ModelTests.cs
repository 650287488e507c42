// Gradient checks (float64 finite differences, GradCheck.Run) of the RL layers and losses that live
// outside the core catalog: the batched EnsembleLinear, the world model's whole loss (NLL with learned
// log-variance bounds, bound penalty, L2) and the Huber loss; the world model learning Pendulum's
// dynamics from random data (holdout MSE falls, elites are the best members); early stopping's
// minimum steps between holdout checks and the step cap; MBPO's rollouts.
using NanoMbpo.Rl;
using NanoMbpo.Rl.Envs;
using Xunit;

namespace NanoMbpo.Rl.Tests;

public class ModelTests
{
    public static TheoryData<string> CaseNames => new() { "ensemble_linear", "world_model_loss", "huber" };

    static IEnumerable<GradCase> Cases() =>
    [
        .. EnsembleLinear.Cases(), .. WorldModel.Cases(),
        // |pred − target| on both sides of 1 (the kink at 1 is avoided by the ±0.3 offsets)
        new GradCase("huber", "pred(8) target(8)", (rng, dt) =>
        {
            var p = Tensor.FromArray(new double[] { 0.1, -0.4, 1.3, -1.6, 2.5, 0.6, -2.2, 0.0 }, 8).RequireGrad();
            var t = Tensor.Uniform(rng, [8], -0.2, 0.2, dt);
            return new GradProblem([p], () => Losses.Huber(p, t));
        }),
    ];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void GradientCheck(string name)
    {
        var r = GradCheck.Run(Cases().Single(c => c.Name == name));
        Assert.True(r.Passed, $"{name}: {r.Error} max abs {r.MaxAbsError:E2} rel {r.MaxRelError:E2}");
    }

    [Fact]
    public void HuberMatchesItsDefinition()
    {
        var l = Losses.Huber(Tensor.FromArray(new float[] { 0.5f, 3f }, 2), Tensor.FromArray(new float[] { 0f, 0f }, 2));
        Assert.Equal((0.125 + 2.5) / 2, l.Item(), 1e-6);
    }

    /// <summary><paramref name="rows"/> Pendulum transitions under uniform random torques (seed 1), in a buffer of <paramref name="capacity"/>.</summary>
    internal static ReplayBuffer PendulumData(int rows, int capacity)
    {
        var env = new Pendulum();
        var rng = new Rng(1);
        var buf = new ReplayBuffer(capacity, 3, 1);
        var o = new float[3]; var o2 = new float[3];
        env.Reset(rng, o);
        for (int i = 0; i < rows; i++)
        {
            float[] a = [(float)rng.Uniform(-2, 2)];
            var r = env.Step(a, o2);
            buf.Add(o, a, r.Reward, o2, r.Terminated);
            if (r.Done) env.Reset(rng, o); else o2.CopyTo(o, 0);
        }
        return buf;
    }

    [Fact]
    public void WorldModelLearnsPendulumDynamics()
    {
        var buf = PendulumData(1500, 2000);
        var opts = new WorldModelOptions { Members = 4, Elites = 3, Hidden = 64, HiddenLayers = 2, WeightDecay = [2.5e-5, 5e-5, 1e-4], MaxEpochs = 0 };
        var (_, before) = new WorldModel(3, 1, new Rng(2), opts).Train(buf, new Rng(3), 0);   // untrained
        var wm = new WorldModel(3, 1, new Rng(2), opts with { MaxEpochs = 60 });
        var (epochs, after) = wm.Train(buf, new Rng(3), 0);
        Assert.True(epochs >= 10);
        // targets [r, Δs] start with MSE ~ 12 (the reward dominates); a learned model is far below
        Assert.True(after.Max() < 0.1 * before.Min(), $"holdout MSE {string.Join(", ", before.Select(v => v.ToString("F3")))} -> {string.Join(", ", after.Select(v => v.ToString("F3")))}");
        var elites = wm.EliteIndices;
        Assert.Equal(3, elites.Length);
        Assert.DoesNotContain(Enumerable.Range(0, 4).OrderBy(e => after[e]).Last(), elites);
        // predictions: sampled steps from a known state land near the true one on average (32 samples,
        // each from a random elite, so one unlucky draw of the noise does not decide the test)
        var env = new Pendulum(); var o2 = new float[3];
        env.SetState([0.3, -0.5, 0]);
        const int n = 32;
        var s = Enumerable.Range(0, n).SelectMany(_ => new[] { (float)Math.Cos(0.3), (float)Math.Sin(0.3), -0.5f }).ToArray();
        var res = env.Step([1f], o2);
        var pred = new float[3 * n]; var rew = new float[n];
        wm.Predict(s, Enumerable.Repeat(1f, n).ToArray(), n, new Rng(5), pred, rew);
        double thdot = Enumerable.Range(0, n).Average(i => pred[3 * i + 2]), meanR = rew.Average();
        Assert.True(Math.Abs(thdot - o2[2]) < 0.5 && Math.Abs(meanR - res.Reward) < 1.0, $"epochs {epochs}: mean predicted θ̇ {thdot:F3} r {meanR:F3} vs {o2[2]:F3} r {res.Reward:F3}");
    }

    [Fact]
    public void AnL2WorldModelLearnsPendulumAndPredictsItsElitesMeansWithoutNoise()
    {
        var buf = PendulumData(1500, 2000);
        var opts = new WorldModelOptions { Loss = WorldModelLoss.L2, Members = 3, Elites = 1, Hidden = 64, HiddenLayers = 2, WeightDecay = [2.5e-5, 5e-5, 1e-4], MaxEpochs = 0 };
        var (_, before) = new WorldModel(3, 1, new Rng(2), opts).Train(buf, new Rng(3), 0);
        var wm = new WorldModel(3, 1, new Rng(2), opts with { MaxEpochs = 60 });
        var (_, after) = wm.Train(buf, new Rng(3), 0);
        Assert.True(after.Max() < 0.1 * before.Min(), $"holdout MSE {before.Min():F3} -> {after.Max():F3}");
        // one elite and no sampled noise: two predictions with different random streams are identical
        float[] s = [(float)Math.Cos(0.3), (float)Math.Sin(0.3), -0.5f];
        var p1 = new float[3]; var p2 = new float[3]; var r1 = new float[1]; var r2 = new float[1];
        wm.Predict(s, [1f], 1, new Rng(5), p1, r1);
        wm.Predict(s, [1f], 1, new Rng(6), p2, r2);
        Assert.Equal(p1, p2); Assert.Equal(r1, r2);
        var nll = new WorldModel(3, 1, new Rng(2), opts with { Loss = WorldModelLoss.GaussianNll, MaxEpochs = 60 });
        nll.Train(buf, new Rng(3), 0);
        nll.Predict(s, [1f], 1, new Rng(5), p1, r1);
        nll.Predict(s, [1f], 1, new Rng(6), p2, r2);
        Assert.NotEqual(p1, p2);   // the Gaussian model samples
    }

    [Fact]
    public void EarlyStoppingWaitsForMinStepsAndTheStepCapHolds()
    {
        // 500 rows, batch 256: one gradient step per epoch. The holdout is checked only every
        // MinStepsPerCheck steps, so five checks without a gain take at least 5·20 steps (checking
        // every one-step epoch stopped the first fit of an MBPO run on its initial plateau).
        var buf = PendulumData(500, 500);
        var opts = new WorldModelOptions { Members = 2, Elites = 1, Hidden = 8, HiddenLayers = 1, WeightDecay = [1e-4, 1e-4], MinStepsPerCheck = 20, MaxTrainSteps = 10_000 };
        var (epochs, _) = new WorldModel(3, 1, new Rng(2), opts).Train(buf, new Rng(3));
        Assert.True(epochs >= 100 && epochs % 20 == 0, $"{epochs} epochs");
        var (capped, _) = new WorldModel(3, 1, new Rng(2), opts with { MaxTrainSteps = 30 }).Train(buf, new Rng(3));
        Assert.Equal(30, capped);
    }

    [Fact]
    public void BenchWorkloadsRunAndLearn()
    {
        // `bench sac` and `bench world-model` time these: they must be real training steps.
        var sac = new SacBench(bufferSize: 2000);
        double first = sac.Step(), last = first;
        for (int i = 0; i < 30; i++) last = sac.Step();
        Assert.True(double.IsFinite(last) && last < first, $"SAC bench critic loss {first} -> {last}");
        var wm = new WorldModelStep(batch: 32);
        double w0 = wm.Step(), w1 = w0;
        for (int i = 0; i < 40; i++) w1 = wm.Step();
        Assert.True(double.IsFinite(w1) && w1 < w0, $"world-model loss {w0} -> {w1}");
    }

    [Fact]
    public void MbpoRolloutsFillTheModelBufferAndDynaUsesOneStep()
    {
        var model = new WorldModelOptions { Members = 3, Elites = 2, Hidden = 16, HiddenLayers = 2, WeightDecay = [1e-4, 1e-4, 1e-4], MaxEpochs = 2 };
        var dyna = new Mbpo(new CartPole(false), 1, new MbpoOptions { InitialRandomSteps = 100, ModelTrainFreq = 100, RolloutBatch = 50, MinRolloutLength = 1, MaxRolloutLength = 1, UpdatesPerStep = 1, Model = model },
            new SacDiscrete(new CartPole(false), 1, new SacDiscreteOptions { Hidden = [16], BatchSize = 32, BufferSize = 1 }));
        for (int i = 0; i < 100; i++) dyna.TrainStep();
        Assert.Equal(50, dyna.ModelBuffer.Count);   // k = 1: one model transition per start state
        Assert.Equal(1, dyna.Metrics["rollout_length"]);
        for (int i = 0; i < 50; i++) dyna.TrainStep();
        Assert.True(double.IsFinite(dyna.Metrics["critic_loss"]));
        var sac = new Sac(new Pendulum(), 1, new SacOptions { Hidden = [16], BatchSize = 32, BufferSize = 1 });
        var mbpo = new Mbpo(new Pendulum(), 1, new MbpoOptions { InitialRandomSteps = 100, ModelTrainFreq = 100, RolloutBatch = 50, MinRolloutLength = 3, MaxRolloutLength = 3, UpdatesPerStep = 1, Model = model }, sac);
        for (int i = 0; i < 100; i++) mbpo.TrainStep();
        Assert.Equal(150, mbpo.ModelBuffer.Count);   // Pendulum never terminates: 3 steps for each of 50 starts
        // a NaN in the SAC learner names MBPO's real step and the network
        sac.CriticStore.Data<float>()[3] = float.NaN;
        var e = Assert.Throws<NonFiniteException>(mbpo.TrainStep);
        Assert.Contains("step 101", e.Message);
        Assert.Contains("critic", e.Message);
    }
}
