// The seller agent's loop: same seed → identical learning curve and metrics; the rollout schedule; SAC
// (model-free) trains no model; a checkpoint reloads into a fresh learner acting identically. Learning
// itself is measured by `nanombpo compare` (bench/RESULTS.md), minutes per run, too long for CI.
using NanoMbpo.Dialog;
using Xunit;

namespace NanoMbpo.Agent.Tests;

public class SellerTests
{
    [Fact]
    public void SameSeedSameCurveAndMetrics()
    {
        var a = LatentTests.Run(LatentTests.Small(dialogs: 40), 11);
        var b = LatentTests.Run(LatentTests.Small(dialogs: 40), 11);
        a.Train(); b.Train();
        Assert.Equal(a.Curve.Select(c => (c.Dialogs, c.Turns, c.Success, c.Return)), b.Curve.Select(c => (c.Dialogs, c.Turns, c.Success, c.Return)));
        Assert.Equal(a.Metrics.Where(kv => kv.Key != "model_epochs"), b.Metrics.Where(kv => kv.Key != "model_epochs"));
        Assert.Equal(a.Learner.ActorStore.Data<float>().ToArray(), b.Learner.ActorStore.Data<float>().ToArray());
        var c = LatentTests.Run(LatentTests.Small(dialogs: 40), 12);
        c.Train();
        Assert.NotEqual(a.Learner.ActorStore.Data<float>().ToArray(), c.Learner.ActorStore.Data<float>().ToArray());
    }

    [Fact]
    public void RolloutLengthFollowsTheSchedule()
    {
        var a = LatentTests.Run(LatentTests.Small() with { MinRolloutLength = 1, MaxRolloutLength = 4, RolloutScheduleStart = 100, RolloutScheduleEnd = 400 }, 1);
        Assert.Equal(1, a.RolloutLength(0));
        Assert.Equal(1, a.RolloutLength(100));
        Assert.Equal(3, a.RolloutLength(300));
        Assert.Equal(4, a.RolloutLength(5000));
    }

    [Fact]
    public void ExplorationEpsilonDecaysLinearlyAndIsValidated()
    {
        var o = new SellerOptions { Dialogs = 1000, ExploreEpsilon = 0.2, ExploreDecay = 0.5, ScheduleDialogs = 0 };
        Assert.Equal(0.2, o.Epsilon(0), 12);
        Assert.Equal(0.1, o.Epsilon(250), 12);
        Assert.Equal(0.0, o.Epsilon(500), 12);
        Assert.Equal(0.0, o.Epsilon(900), 12);
        Assert.Equal(0.0, (o with { ExploreEpsilon = 0 }).Epsilon(0));
        Assert.Equal(0.2, new SellerOptions().Epsilon(0), 12);   // the default
        Assert.Equal("ExploreEpsilon", Assert.Throws<ArgumentOutOfRangeException>(() => (o with { ExploreEpsilon = 1.5 }).Validate()).ParamName);
        Assert.Equal("ExploreDecay", Assert.Throws<ArgumentOutOfRangeException>(() => (o with { ExploreDecay = 0 }).Validate()).ParamName);
        // ScheduleDialogs keeps the 1000-dialog schedule on a 3000-dialog budget; 0 means the budget
        var held = o with { Dialogs = 3000, ScheduleDialogs = 1000 };
        Assert.Equal(1000, held.ScheduleLength);
        Assert.Equal(3000, (o with { Dialogs = 3000 }).ScheduleLength);
        foreach (int d in new[] { 0, 250, 499, 500, 2999 }) Assert.Equal(o.Epsilon(d), held.Epsilon(d), 12);
        Assert.Equal(0.15, (o with { Dialogs = 2000 }).Epsilon(250), 12);
        // the defaults: mbpo, sac and dyna on 1000 dialogs whatever the budget, the other baselines on their budget
        Assert.Equal(1000, SellerOptions.For(SellerMethod.Mbpo, 6000).ScheduleLength);
        Assert.Equal(1000, SellerOptions.For(SellerMethod.Sac, 6000).ScheduleLength);
        Assert.Equal(1000, SellerOptions.For(SellerMethod.Dyna, 2000).ScheduleLength);
        Assert.Equal(2000, SellerOptions.For(SellerMethod.Dqn, 2000).ScheduleLength);
        Assert.Equal("ScheduleDialogs", Assert.Throws<ArgumentOutOfRangeException>(() => (o with { ScheduleDialogs = -1 }).Validate()).ParamName);
    }

    [Fact]
    public void ExplorationMixingIsSeededAndChangesOnlyTheCollectedTurns()
    {
        // ε = 0 takes no extra random draw, so a run without mixing keeps the trajectory it had before the option existed
        // (SameSeedSameCurveAndMetrics); with ε the same seed still gives the same run, and a different one than without.
        var mixed = LatentTests.Small(dialogs: 40) with { RandomDialogs = 2, ExploreEpsilon = 0.5, ExploreDecay = 1 };
        var a = LatentTests.Run(mixed, 11); var b = LatentTests.Run(mixed, 11); var plain = LatentTests.Run(mixed with { ExploreEpsilon = 0 }, 11);
        a.Train(); b.Train(); plain.Train();
        Assert.Equal(a.Learner.ActorStore.Data<float>().ToArray(), b.Learner.ActorStore.Data<float>().ToArray());
        Assert.Equal(a.Turns, b.Turns);
        Assert.NotEqual(a.Learner.ActorStore.Data<float>().ToArray(), plain.Learner.ActorStore.Data<float>().ToArray());
    }

    [Fact]
    public void HuberAndMseCriticLossesBothTrain()
    {
        var o = LatentTests.Small(dialogs: 30);
        var mse = LatentTests.Run(o with { Sac = o.Sac with { CriticLoss = TdLoss.Mse } }, 5); var huber = LatentTests.Run(o with { Sac = o.Sac with { CriticLoss = TdLoss.Huber } }, 5);
        mse.Train(); huber.Train();
        Assert.True(double.IsFinite(huber.Metrics["critic_loss"]) && huber.Metrics["critic_loss"] >= 0);
        Assert.NotEqual(mse.Learner.CriticStore.Data<float>().ToArray(), huber.Learner.CriticStore.Data<float>().ToArray());
    }

    [Fact]
    public void ModelFreeSacTrainsNoModelAndUsesOnlyRealTurns()
    {
        var a = LatentTests.Run(LatentTests.Small(SellerMethod.Sac, 30), 2);
        a.Train();
        Assert.Null(a.Model);
        Assert.Equal(0, a.ModelBuffer.Count);
        Assert.True(a.Metrics.ContainsKey("critic_loss"));
        var m = LatentTests.Run(LatentTests.Small(SellerMethod.Mbpo, 30), 2);
        m.Train();
        Assert.True(m.ModelBuffer.Count > 0);
    }

    [Fact]
    public void CheckpointReloadsIntoAFreshLearnerThatActsTheSame()
    {
        var a = LatentTests.Run(LatentTests.Small(dialogs: 30), 4);
        a.Train();
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-seller-" + Guid.NewGuid().ToString("N"));
        try
        {
            SellerCheckpoint.Save(a, dir);
            var table = new UtteranceTable(new HashedUtteranceEmbedder(64));
            var fresh = new LatentSac(table, SellerActions.All.Select(x => x.Template).ToList(), 99, a.Options.Sac);
            SellerCheckpoint.Load(fresh, dir);
            var p1 = new LatentPolicy(a.Learner, "a"); var p2 = new LatentPolicy(fresh, "b");
            var e1 = Evaluation.Run(p1, 10, 77); var e2 = Evaluation.Run(p2, 10, 77);
            Assert.Equal(e1.Return.Mean, e2.Return.Mean);
            Assert.Equal(e1.Turns.Mean, e2.Turns.Mean);
            Assert.Throws<FileNotFoundException>(() => { File.Delete(Path.Combine(dir, "actor.safetensors")); SellerCheckpoint.Load(fresh, dir); });
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void ANonFiniteGradientNamesTheStepAndTheNetwork()
    {
        var a = LatentTests.Run(LatentTests.Small(dialogs: 12), 6);
        a.Train();
        var w = a.Learner.CriticStore.Data<float>();
        w[0] = float.NaN;   // a poisoned critic weight makes every critic gradient NaN
        var b = new DialogBatch(4, a.Learner.L);
        a.Real.Sample(new Rng(1), b, 4);
        var e = Assert.ThrowsAny<Exception>(() => a.Learner.Update(b, null));
        Assert.Contains("step", e.Message);
        Assert.True(e.Message.Contains("critic") || e.Message.Contains("encoder"), e.Message);
    }
}
