// The seller baselines (LatentDqn, LatentReinforce, LatentMpc with CEM and random shooting) on tiny budgets with
// the hashed embedder: same seed → the same curve, metrics and weights (another seed → other weights); a
// checkpoint reloads into a fresh agent that acts the same; a NaN names the step and the network; the DQN ε
// schedule; and CEM on hand-made models whose best action sequence is known (also: reward after a predicted
// end of the dialog does not count). Learning itself is measured by `nanombpo compare` (minutes per run).
using NanoMbpo.Dialog;
using Xunit;

namespace NanoMbpo.Agent.Tests;

public class BaselineTests
{
    static SellerOptions Small(SellerMethod m, int dialogs) => LatentTests.Small(m, dialogs) with
    {
        Mpc = new LatentMpcOptions { Horizon = 2, Candidates = 8, CemIterations = 2, CemElites = 2 },
    };

    static LatentAgent Run(SellerOptions o, ulong seed, UtteranceTable? table = null) =>
        (LatentAgent)SellerMethods.Create(table ?? new UtteranceTable(new HashedUtteranceEmbedder(64)), o, seed, () => new KinPizzaEnv(maxTurns: o.MaxTurns));

    static float[] Weights(LatentAgent a) => a.Networks().SelectMany(n => n.Store.Data<float>().ToArray()).ToArray();

    [Theory]
    [InlineData(SellerMethod.Dqn)]
    [InlineData(SellerMethod.Reinforce)]
    [InlineData(SellerMethod.Mpc)]
    [InlineData(SellerMethod.MpcRs)]
    public void SameSeedSameCurveMetricsAndWeights(SellerMethod m)
    {
        var a = Run(Small(m, 30), 11); var b = Run(Small(m, 30), 11); var c = Run(Small(m, 30), 12);
        a.Train(); b.Train(); c.Train();
        Assert.Equal(2, a.Curve.Count);
        Assert.Equal(a.Curve.Select(p => (p.Dialogs, p.Turns, p.Success, p.Return)), b.Curve.Select(p => (p.Dialogs, p.Turns, p.Success, p.Return)));
        Assert.Equal(a.Metrics.Where(kv => kv.Key != "model_epochs"), b.Metrics.Where(kv => kv.Key != "model_epochs"));
        Assert.NotEmpty(a.Metrics);
        Assert.Equal(Weights(a), Weights(b));
        Assert.NotEqual(Weights(a), Weights(c));
        // the encoder learned: its weights moved from the initialisation
        Assert.NotEqual(Run(Small(m, 30), 11).State.EncoderStore.Data<float>().ToArray(), a.State.EncoderStore.Data<float>().ToArray());
    }

    [Theory]
    [InlineData(SellerMethod.Dqn)]
    [InlineData(SellerMethod.Reinforce)]
    [InlineData(SellerMethod.Mpc)]
    public void CheckpointReloadsIntoAFreshAgentThatActsTheSame(SellerMethod m)
    {
        var a = Run(Small(m, 30), 4);
        a.Train();
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-baseline-" + Guid.NewGuid().ToString("N"));
        try
        {
            a.Save(dir);
            var fresh = Run(Small(m, 30), 4);
            fresh.Load(dir);
            var e1 = Evaluation.Run(a.Policy(), 10, 77); var e2 = Evaluation.Run(fresh.Policy(), 10, 77);
            Assert.Equal(e1.Return.Mean, e2.Return.Mean);
            Assert.Equal(e1.Turns.Mean, e2.Turns.Mean);
            var all = Run(Small(m, 30), 4);
            all.Load(dir, all: true);
            Assert.Equal(Weights(a), Weights(all));
            Assert.NotEqual(Weights(a), Weights(Run(Small(m, 30), 4)));
            File.Delete(Path.Combine(dir, "encoder" + (m == SellerMethod.Mpc ? "_target" : "") + ".safetensors"));
            Assert.Throws<FileNotFoundException>(() => Run(Small(m, 30), 4).Load(dir));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void ANonFiniteLossNamesTheStepAndTheNetwork()
    {
        var a = (LatentDqn)Run(Small(SellerMethod.Dqn, 12), 6);
        a.Train();
        a.QStore.Data<float>()[0] = float.NaN;
        var b = new DialogBatch(4, a.State.L);
        a.Real.Sample(new Rng(1), b, 4);
        var e = Assert.ThrowsAny<NonFiniteException>(() => a.Update(b));
        Assert.Contains("step", e.Message);
        Assert.Contains("q", e.Message);
        var r = (LatentReinforce)Run(Small(SellerMethod.Reinforce, 12), 6);
        r.Train();
        r.PolicyStore.Data<float>()[0] = float.NaN;
        var e2 = Assert.ThrowsAny<NonFiniteException>(() => r.Update(5));
        Assert.Contains("step", e2.Message);
        Assert.Contains("policy", e2.Message);
        var m = (LatentMpc)Run(Small(SellerMethod.Mpc, 12), 6);
        m.Train();
        m.State.DynamicsStore.Data<float>()[0] = float.NaN;
        var e3 = Assert.ThrowsAny<NonFiniteException>(() => m.Update(b));
        Assert.Contains("step", e3.Message);
        Assert.Contains("latent dynamics", e3.Message);
    }

    [Fact]
    public void EpsilonFallsLinearlyAfterTheRandomDialogs()
    {
        var a = (LatentDqn)Run(Small(SellerMethod.Dqn, 110) with { Dqn = new LatentDqnOptions { ExplorationFraction = 0.5, FinalEpsilon = 0.1 } }, 1);
        Assert.Equal(1.0, a.Epsilon(10), 12);                  // RandomDialogs = 10
        Assert.Equal(0.55, a.Epsilon(10 + 25), 12);            // half of the 50-dialog decay
        Assert.Equal(0.1, a.Epsilon(60), 12);
        Assert.Equal(0.1, a.Epsilon(109), 12);
        Assert.Equal(a.Dqn.LearningRate / 2, a.LearningRate(55), 12);
        var held = (LatentDqn)Run(Small(SellerMethod.Dqn, 110) with { ScheduleDialogs = 60, Dqn = new LatentDqnOptions { ExplorationFraction = 0.5, FinalEpsilon = 0.1 } }, 1);
        Assert.Equal(0.1, held.Epsilon(35), 12);               // a 25-dialog decay on the 60-dialog schedule
        Assert.Equal(held.Dqn.LearningRate / 2, held.LearningRate(30), 12);
        Assert.Equal(0.0, held.LearningRate(100), 12);
    }

    /// <summary>State z[0] = the step; action a at step h earns reward[h][a]; actions in <paramref name="ends"/> end the dialog.
    /// Members disagree by an offset that cancels in their average.</summary>
    sealed class TableModel(double[][] reward, int[] ends) : ILatentModel
    {
        public int Members => 2;
        public int Z => 1;
        public void Step(float[] z, int[] actions, int n, float[] z2, float[] rewards, float[] done)
        {
            for (int m = 0; m < 2; m++)
                for (int i = 0; i < n; i++)
                {
                    int row = m * n + i, h = (int)z[row];
                    z2[row] = h + 1;
                    rewards[row] = (float)(reward[Math.Min(h, reward.Length - 1)][actions[row]] + (m == 0 ? 0.5 : -0.5));
                    done[row] = ends.Contains(actions[row]) ? 1 : 0;
                }
        }
    }

    [Fact]
    public void CemFindsTheKnownBestSequence()
    {
        // 6 actions, horizon 4: 1296 sequences; the best one is 3, 1, 4, 2 (reward 1 each, every other action 0)
        int[] answer = [3, 1, 4, 2];
        var reward = answer.Select(a => Enumerable.Range(0, 6).Select(x => x == a ? 1.0 : 0.1 * x / 6).ToArray()).ToArray();
        var model = new TableModel(reward, []);
        var cem = new CemPlanner(6, 4, candidates: 64, iterations: 5, elites: 8, keep: 0.1, gamma: 1.0);
        var (best, ret) = cem.Plan(model, [0f], new Rng(5));
        Assert.Equal(answer, best);
        Assert.Equal(4.0, ret, 5);   // the members' ±0.5 offsets cancel in the average
        // one round of 64 uniform sequences (random shooting) rarely holds the best of 1296: CEM's refits matter
        int hits = 0;
        for (ulong s = 0; s < 20; s++) if (new CemPlanner(6, 4, 64, 1, 8, 0.1, 1.0).Plan(model, [0f], new Rng(s)).Best.SequenceEqual(answer)) hits++;
        Assert.True(hits <= 6, $"random shooting found the best of 1296 sequences {hits} times in 20");
    }

    [Fact]
    public void RewardAfterAPredictedEndDoesNotCount()
    {
        // action 0 ends the dialog, earning 3 at the first step and 10 later; action 1 earns 1 a step. Counting only
        // until the predicted end, 1, 1, 0 is best (12); counting on past it, 0, 0, 0 would be (23)
        double[][] reward = [[3.0, 1.0], [10.0, 1.0], [10.0, 1.0]];
        var model = new TableModel(reward, [0]);
        var (best, ret) = new CemPlanner(2, 3, candidates: 32, iterations: 3, elites: 4, keep: 0.1, gamma: 1.0).Plan(model, [0f], new Rng(1));
        Assert.Equal([1, 1, 0], best);
        Assert.Equal(12.0, ret, 5);
    }
}
