// Tuple extraction (the paper's step 1): pairs of seller turn and customer reply, history truncation, merged runs
// of one speaker, stored versus fallback rewards, dialogs ending on the seller, and the real shared sample.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.DialogTuple"
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Corpus;
using Xunit;

namespace NanoMbpo.Tests.DialogIO;

public class DialogTupleTests
{
    static TaskmasterDialog Dialog(params (Speaker Speaker, string Text, double? Reward)[] lines) =>
        new("d", "i", lines.Select((l, i) => new TaskmasterUtterance(i, l.Speaker, l.Text) { Reward = l.Reward }).ToList());

    const Speaker S = Speaker.Seller, C = Speaker.Customer;

    /// <summary>Records what it was asked and answers a recognisable reward.</summary>
    sealed class RecordingReward : IRewardModel
    {
        public readonly List<RewardContext> Seen = [];
        public string Name => "recording";
        public double Reward(RewardContext context) { Seen.Add(context); return 100 + Seen.Count; }
    }

    [Fact]
    public void EachAnsweredSellerTurnGivesATupleWithItsStoredReward()
    {
        var d = Dialog((S, "greet", 0.0), (C, "c1", null), (S, "s1", -1.0), (C, "c2", null), (S, "s2", 20.0), (C, "bye", null));
        List<DialogTuple> t = DialogTupleExtractor.Extract(d, maxSeqLen: 10);
        Assert.Equal(3, t.Count);
        Assert.Empty(t[0].History);
        Assert.Equal(("greet", "c1", 0.0, false), (t[0].SellerResponse, t[0].CustomerNext, t[0].Reward, t[0].Done));
        Assert.Equal(["greet", "c1"], t[1].History);
        Assert.Equal(("s1", "c2", -1.0, false), (t[1].SellerResponse, t[1].CustomerNext, t[1].Reward, t[1].Done));
        Assert.Equal(["greet", "c1", "s1", "c2"], t[2].History);
        Assert.Equal(("s2", "bye", 20.0, true), (t[2].SellerResponse, t[2].CustomerNext, t[2].Reward, t[2].Done));
    }

    [Theory]
    [InlineData(0, new string[0])]
    [InlineData(1, new[] { "c2" })]
    [InlineData(3, new[] { "c1", "s1", "c2" })]
    [InlineData(50, new[] { "c0", "s0", "c1", "s1", "c2" })]
    public void HistoryKeepsTheLastMaxSeqLenUtterances(int maxSeqLen, string[] expected)
    {
        var d = Dialog((C, "c0", null), (S, "s0", null), (C, "c1", null), (S, "s1", null), (C, "c2", null), (S, "s2", null), (C, "c3", null));
        DialogTuple last = DialogTupleExtractor.Extract(d, maxSeqLen)[^1];
        Assert.Equal("s2", last.SellerResponse);
        Assert.Equal(expected, last.History);
    }

    [Fact]
    public void TrailingSellerTurnIsDroppedWithoutARewardAndKeptWithOne()
    {
        var closing = Dialog((C, "hi", null), (S, "what size?", null), (C, "large", null), (S, "enjoy your pizza!", null));
        List<DialogTuple> t = DialogTupleExtractor.Extract(closing, 4);
        DialogTuple only = Assert.Single(t);
        Assert.Equal("what size?", only.SellerResponse);
        Assert.False(only.Done); // the dialog went on after "large"

        var hangUp = Dialog((C, "hi", null), (S, "what size?", -1.0), (C, "large", null), (S, "Hello lovely.", -20.0));
        t = DialogTupleExtractor.Extract(hangUp, 4);
        Assert.Equal(2, t.Count);
        Assert.Equal(("Hello lovely.", "", -20.0, true), (t[1].SellerResponse, t[1].CustomerNext, t[1].Reward, t[1].Done));
        Assert.Equal(["hi", "what size?", "large"], t[1].History);
    }

    [Fact]
    public void ConsecutiveUtterancesOfOneSpeakerAreMergedAndTheirRewardsSummed()
    {
        var d = Dialog((C, "hi", null), (C, "I want pizza", null), (S, "Sure.", -1.0), (S, "What size?", -0.5),
            (C, "large", null), (C, "", null), (C, "with ham", null));
        DialogTuple t = Assert.Single(DialogTupleExtractor.Extract(d, 5));
        Assert.Equal(["hi I want pizza"], t.History);
        Assert.Equal("Sure. What size?", t.SellerResponse);
        Assert.Equal("large with ham", t.CustomerNext);
        Assert.Equal(-1.5, t.Reward, 12);
        Assert.True(t.Done);
    }

    [Fact]
    public void FallbackRewardModelScoresOnlyTurnsWithoutAStoredReward()
    {
        var d = Dialog((S, "greet", null), (C, "c1", null), (S, "s1", 7.0), (C, "c2", null), (S, "s2", null), (C, "c3", null))
            with { Outcome = new TaskmasterOutcome(Success: true, Turns: 3, Hangup: false) };
        var judge = new RecordingReward();
        List<DialogTuple> t = DialogTupleExtractor.Extract(d, 2, judge);
        Assert.Equal([101.0, 7.0, 102.0], t.Select(x => x.Reward));
        Assert.Equal(2, judge.Seen.Count);
        RewardContext first = judge.Seen[0], last = judge.Seen[1];
        Assert.Empty(first.History);
        Assert.Equal(("greet", "c1", false, false), (first.SellerText, first.CustomerReply, first.Done, first.Success));
        // The reward model sees the whole history, not just maxSeqLen of it.
        Assert.Equal(["greet", "c1", "s1", "c2"], last.History.Select(u => u.Text));
        Assert.Equal([S, C, S, C], last.History.Select(u => u.Speaker));
        Assert.Equal(("s2", "c3", true, true, false), (last.SellerText, last.CustomerReply, last.Done, last.Success, last.HungUp));
    }

    [Fact]
    public void NoFallbackMeansZeroAndRewardsOnCustomerLinesAreIgnored()
    {
        var d = Dialog((C, "hi", 5.0), (S, "size?", null), (C, "large", 3.0));
        Assert.Equal(0.0, Assert.Single(DialogTupleExtractor.Extract(d, 3)).Reward);
    }

    [Fact]
    public void EdgeCases()
    {
        Assert.Empty(DialogTupleExtractor.Extract(Dialog(), 3));
        Assert.Empty(DialogTupleExtractor.Extract(Dialog((C, "hello?", null), (C, "anyone?", null)), 3));
        Assert.Empty(DialogTupleExtractor.Extract(Dialog((S, "hi", null)), 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => DialogTupleExtractor.Extract(Dialog(), -1));
        var two = DialogTupleExtractor.ExtractAll([Dialog((S, "a", 1.0), (C, "b", null)), Dialog((S, "x", 2.0), (C, "y", null))], 2);
        Assert.Equal(["a", "x"], two.Select(t => t.SellerResponse));
    }

    [DialogIOSharedDataFact("taskmaster/sample.json")]
    public void RealSampleGivesOneTuplePerAnsweredAssistantTurn()
    {
        TaskmasterDialog d = Assert.Single(TaskmasterReader.ReadFile(DialogIOSharedData.Find("taskmaster/sample.json")!));
        List<DialogTuple> t = DialogTupleExtractor.Extract(d, maxSeqLen: 3);
        // 20 alternating utterances, USER first: ASSISTANT at 1, 3, ..., 19; the last one is never answered.
        Assert.Equal(9, t.Count);
        Assert.Equal(["Hi, I'm looking to book a table for Korean food."], t[0].History);
        Assert.Equal("Ok, what area are you thinking about?", t[0].SellerResponse);
        Assert.Equal("Somewhere in Southern NYC, maybe the East Village?", t[0].CustomerNext);
        Assert.All(t, x => Assert.Equal(0.0, x.Reward));
        Assert.All(t.Skip(1), x => Assert.Equal(3, x.History.Count));
        Assert.Equal(("Great, should I use your account you have open with them?", "Yes please."), (t[^1].SellerResponse, t[^1].CustomerNext));
        Assert.All(t, x => Assert.False(x.Done)); // the dialog ends on the assistant's line, after the last tuple
    }
}
