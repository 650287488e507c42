// Learning signal of every algorithm in seconds: each solves a contextual bandit (Bandit.cs) it
// cannot solve by chance (a random policy scores −0.55 / 0.5), DQN also balances CartPole past
// random play (and its learning rate follows the linear schedule), and the same seed gives
// bit-identical parameters while another seed does not.
using NanoMbpo.Rl;
using NanoMbpo.Rl.Envs;
using Xunit;

namespace NanoMbpo.Rl.Tests;

public class LearningTests
{
    [Fact]
    public void SacLearnsTheContinuousBandit()
    {
        var agent = new Sac(new Bandit(false), 1, new SacOptions { Hidden = [32, 32], BatchSize = 64, LearningStarts = 100, LearningRate = 3e-3, BufferSize = 2000 });
        double before = Bandit.Score(agent, false);
        for (int i = 0; i < 700; i++) agent.TrainStep();
        double after = Bandit.Score(agent, false);
        Assert.True(after > -0.06, $"SAC bandit score {before:F3} -> {after:F3}");
        Assert.True(agent.Alpha < 1.0);   // the temperature moved towards the target entropy
    }

    [Fact]
    public void DiscreteSacLearnsTheDiscreteBandit()
    {
        var agent = new SacDiscrete(new Bandit(true), 1, new SacDiscreteOptions { Hidden = [32, 32], BatchSize = 64, LearningStarts = 100, LearningRate = 3e-3, BufferSize = 2000 });
        for (int i = 0; i < 600; i++) agent.TrainStep();
        Assert.True(Bandit.Score(agent, true) >= 0.95, $"score {Bandit.Score(agent, true)}");
    }

    [Fact]
    public void DqnLearnsTheDiscreteBandit()
    {
        var agent = new Dqn(new Bandit(true), 1, new DqnOptions { Hidden = [32, 32], LearningStarts = 100, TrainFreq = 4, GradientSteps = 1, ScheduleSteps = 600, LearningRate = 3e-3 });
        for (int i = 0; i < 600; i++) agent.TrainStep();
        Assert.True(Bandit.Score(agent, true) >= 0.95, $"score {Bandit.Score(agent, true)}");
    }

    [Fact]
    public void ReinforceLearnsTheDiscreteBandit()
    {
        var agent = new Reinforce(new Bandit(true), 1, new ReinforceOptions { Hidden = [32], PolicyLearningRate = 1e-2, ValueLearningRate = 1e-2 });
        for (int i = 0; i < 1500; i++) agent.TrainStep();
        Assert.True(Bandit.Score(agent, true) >= 0.9, $"score {Bandit.Score(agent, true)}");
    }

    [Fact]
    public void DqnImprovesOnCartPole()
    {
        // The zoo's constant 2.3e-3 and batch 64 (the defaults' 2.5e-4, decaying over 100k steps, need ~50k).
        var agent = new Dqn(new CartPole(false), 2, new DqnOptions { Hidden = [64, 64], ScheduleSteps = 8000, TrainFreq = 64, GradientSteps = 32, LearningRate = 2.3e-3, LearningRateDecaySteps = 0, BatchSize = 64 });
        double random = RunLoop.Evaluate(agent, 5).Mean;
        for (int i = 0; i < 8000; i++) agent.TrainStep();
        double after = RunLoop.Evaluate(agent, 5).Mean;
        Assert.True(after > 60 && after > 2 * random, $"DQN CartPole greedy return {random:F1} -> {after:F1}");
    }

    [Fact]
    public void DqnLearningRateFallsLinearlyToZero()
    {
        var agent = new Dqn(new CartPole(false), 1, new DqnOptions { Hidden = [8], LearningRate = 1e-3, LearningRateDecaySteps = 100 });
        Assert.Equal(1e-3, agent.LearningRate, 12);
        for (int i = 0; i < 50; i++) agent.TrainStep();
        Assert.Equal(5e-4, agent.LearningRate, 12);
        for (int i = 0; i < 60; i++) agent.TrainStep();
        Assert.Equal(0.0, agent.LearningRate);
        Assert.Equal(1e-3, new Dqn(new CartPole(false), 1, new DqnOptions { Hidden = [8], LearningRate = 1e-3, LearningRateDecaySteps = 0 }).LearningRate);
    }

    static float[] Train(ulong seed)
    {
        var agent = new Sac(new Pendulum(), seed, new SacOptions { Hidden = [16, 16], BatchSize = 32, LearningStarts = 50, BufferSize = 500 });
        for (int i = 0; i < 150; i++) agent.TrainStep();
        return [.. agent.ActorStore.Data<float>(), .. agent.CriticStore.Data<float>(), .. agent.TargetStore.Data<float>(), (float)agent.Alpha];
    }

    [Fact]
    public void SameSeedGivesIdenticalParameters()
    {
        var a = Train(5); var b = Train(5); var c = Train(6);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void ActorLossLeavesNoGradientInTheCritics()
    {
        // The actor loss flows through the frozen critics: their gradient buffer must stay zero,
        // or the next critic step would also follow −∂min Q/∂θ (a bug the resume test caught).
        var agent = new Sac(new Pendulum(), 1, new SacOptions { Hidden = [8, 8], BatchSize = 16, LearningStarts = 20, BufferSize = 100 });
        for (int i = 0; i < 30; i++) agent.TrainStep();
        Assert.All(agent.CriticStore.Grad<float>().ToArray(), g => Assert.Equal(0f, g));
        Assert.All(agent.ActorStore.Grad<float>().ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void NaNLossStopsNamingStepAndNetwork()
    {
        var agent = new Sac(new Pendulum(), 1, new SacOptions { Hidden = [8, 8], BatchSize = 16, LearningStarts = 20, BufferSize = 100 });
        for (int i = 0; i < 30; i++) agent.TrainStep();
        agent.CriticStore.Data<float>()[0] = float.NaN;
        var e = Assert.Throws<NonFiniteException>(agent.TrainStep);
        Assert.Contains("step 31", e.Message);
        Assert.Contains("critic", e.Message);
    }
}
