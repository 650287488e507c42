// The warm start from a corpus (seller texts back to catalog ids, rewards recomputed equal to the logged ones,
// buffers filled, corpus dialogs counted apart, bad corpora refused naming the dialog) and keep-best (the final
// policy is the one of the best evaluation).
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Corpus;
using Xunit;

namespace NanoMbpo.Agent.Tests;

public class WarmStartTests
{
    [Fact]
    public void EveryRenderedSellerTextIdentifiesItsAction()
    {
        var env = new KinPizzaEnv();
        var rng = new Rng(3);
        int checkedTexts = 0;
        for (int ep = 0; ep < 40; ep++)
        {
            env.Reset(DialogRng.Derive(9, (ulong)ep));
            bool done = false;
            while (!done)
            {
                // mostly the expert (so confirm/total see filled orders), sometimes any action
                int a = rng.NextInt(3) == 0 ? rng.NextInt(SellerActions.Count) : new RulePolicy().Act(env, new DialogRng(1));
                int before = env.History.Count;
                done = env.Step(a).Done;
                var seller = env.History[before];
                Assert.Equal(Speaker.Seller, seller.Speaker);
                Assert.Equal(a, SellerActions.Identify(seller.Text));
                checkedTexts++;
            }
        }
        Assert.True(checkedTexts > 200);
        Assert.Equal(-1, SellerActions.Identify("Would you like a free unicorn with that?"));
    }

    static IReadOnlyList<TaskmasterDialog> Corpus(int n, ulong seed) =>
        new CorpusGenerator(epsilon: 0.2).Generate(n, seed).ToList();

    [Fact]
    public void ACorpusFillsTheRealBufferWithTheLoggedActionsAndRewards()
    {
        var corpus = Corpus(12, 5);
        var o = LatentTests.Small(dialogs: 10) with { RandomDialogs = 0, WarmStartUpdates = 20 };
        var table = new UtteranceTable(new HashedUtteranceEmbedder(64));
        int turns = WarmStart.CountTurns(corpus);
        var agent = new SellerMbpo(table, o, 1, () => new KinPizzaEnv(maxTurns: o.MaxTurns), reserveTurns: turns);
        var st = WarmStart.Load(agent, corpus, new TaskReward(o.MaxTurns), "corpus.json");
        Assert.Equal(turns, agent.Real.Count);
        Assert.Equal(turns, st.Turns);
        Assert.Equal(12, agent.WarmStartDialogs);
        // the task reward recomputed from the texts and outcome equals the one the generator logged
        var logged = corpus.SelectMany(d => d.Utterances.Skip(1).Where(u => u.Speaker == Speaker.Seller).Select(u => u.Reward ?? double.NaN)).ToArray();
        var logAct = corpus.SelectMany(d => d.Utterances.Skip(1).Where(u => u.Speaker == Speaker.Seller).Select(u => SellerActions.Identify(u.Text))).ToArray();
        for (int i = 0; i < turns; i++)
        {
            Assert.Equal(logged[i], agent.Real.Reward(i), 5);
            Assert.Equal(logAct[i], agent.Real.Action(i));
        }
        Assert.Equal(corpus.Count, Enumerable.Range(0, turns).Count(i => agent.Real.Terminated(i)));   // one end per dialog
        Assert.NotNull(agent.Table.Mean);
        Assert.True(agent.ModelBuffer.Count > 0);
        agent.Train();
        Assert.Equal(10, agent.DialogsDone);
        Assert.Equal(12, agent.WarmStartDialogs);
    }

    [Fact]
    public void ASellerTextOutsideTheCatalogIsRefusedNamingTheDialogAndUtterance()
    {
        var corpus = Corpus(3, 2).ToList();
        var d = corpus[1];
        var u = d.Utterances.ToList();
        int i = u.FindIndex(2, x => x.Speaker == Speaker.Seller);
        u[i] = u[i] with { Text = "Would you like a free unicorn with that?" };
        corpus[1] = d with { Utterances = u };
        var o = LatentTests.Small(dialogs: 5) with { RandomDialogs = 0 };
        var agent = new SellerMbpo(new UtteranceTable(new HashedUtteranceEmbedder(64)), o, 1, () => new KinPizzaEnv(maxTurns: o.MaxTurns), reserveTurns: 100);
        var e = Assert.Throws<InvalidDataException>(() => WarmStart.Load(agent, corpus, new TaskReward(), "my.json"));
        Assert.Contains("my.json", e.Message);
        Assert.Contains("dialog 1", e.Message);
        Assert.Contains($"utterance {i}", e.Message);
        Assert.Contains("unicorn", e.Message);
    }

    [Fact]
    public void KeepBestActsWithThePolicyOfTheBestEvaluation()
    {
        var o = LatentTests.Small(dialogs: 100) with { KeepBest = true, EvalEvery = 10, EvalEpisodes = 4 };
        var agent = LatentTests.Run(o, 7);
        var actors = new Dictionary<int, float[]>();
        agent.Train(null, p => actors[p.Dialogs] = agent.Learner.ActorStore.Data<float>().ToArray());
        var best = agent.Best!;
        Assert.Equal(agent.Curve.Max(c => c.Success), best.Success);
        Assert.Equal(agent.Curve.Last(c => c.Success == best.Success).Dialogs, best.Dialogs);
        Assert.Equal(actors[best.Dialogs], agent.Learner.ActorStore.Data<float>().ToArray());
    }
}
