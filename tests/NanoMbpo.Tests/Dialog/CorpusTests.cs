// `nanombpo corpus` and CorpusGenerator: a small generated corpus read back with TaskmasterReader (speakers,
// segments, goal, outcome), rewards against the episode return from `eval`, byte-identical output per seed,
// tuples via DialogTupleExtractor, segment spans on tricky text, and clear errors for bad arguments.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~Dialog.CorpusTests"
using System.CommandLine;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Corpus;
using NanoMbpo.Trainer.Commands;
using Xunit;

namespace NanoMbpo.Tests.Dialog;

[Collection("Console")]
public class CorpusTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    static string TempPath(string name) => Path.Combine(Path.GetTempPath(), $"corpus-{name}-{Guid.NewGuid():N}.json");

    static IReadOnlyList<TaskmasterDialog> Generate(string path, int n, ulong seed, double eps)
    {
        var (code, stdout, err) = Run("corpus", "--dialogs", n.ToString(), "--seed", seed.ToString(), "--out", path,
            "--epsilon", eps.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(code == 0, err);
        string last = stdout.Trim().Split('\n')[^1];
        Assert.Contains($"{n} dialogs", last);
        Assert.Contains("success rate", last);
        Assert.Contains("avg turns", last);
        Assert.Contains(path, last);
        return TaskmasterReader.ReadFile(path);
    }

    [Fact]
    public void GeneratedCorpusReadsBackInTaskmasterFormat()
    {
        string path = TempPath("read");
        try
        {
            var dialogs = Generate(path, 40, 11, 0.2);
            Assert.Equal(40, dialogs.Count);
            Assert.Equal(40, dialogs.Select(d => d.ConversationId).Distinct().Count());
            int segments = 0, rejects = 0;
            foreach (var d in dialogs)
            {
                Assert.Equal(CorpusGenerator.InstructionId, d.InstructionId);
                Assert.StartsWith("pizza-ordering-", d.InstructionId);
                Assert.NotEmpty(Exr.Parse(d.Goal!).Items); // the hidden goal as an EXR string
                var o = d.Outcome!;
                Assert.InRange(o.SlotF1!.Value, 0, 1);
                // The env's first observation: the seller's greeting, then the customer's opening line.
                Assert.Equal((Speaker.Seller, KinPizzaEnv.Greeting), (d.Utterances[0].Speaker, d.Utterances[0].Text));
                Assert.Equal(Speaker.Customer, d.Utterances[1].Speaker);
                for (int i = 0; i < d.Utterances.Count; i++)
                {
                    var u = d.Utterances[i];
                    Assert.Equal(i, u.Index);
                    Assert.Equal(i % 2 == 0 ? Speaker.Seller : Speaker.Customer, u.Speaker);
                    // The greeting is no policy action; every later seller turn carries its reward, no user turn does.
                    Assert.Equal(u.Speaker == Speaker.Seller && i > 0, u.Reward != null);
                    foreach (var s in u.Segments)
                    {
                        Assert.Equal(u.Text[s.StartIndex..s.EndIndex], s.Text);
                        string name = Assert.Single(s.Annotations).Name;
                        Assert.StartsWith("pizza_ordering.", name);
                        segments++;
                        if (name.EndsWith(".reject")) rejects++;
                    }
                }
                Assert.Equal(o.Turns, d.Utterances.Count(u => u.Reward != null));
            }
            Assert.True(segments > 200, $"only {segments} segments in 40 dialogs");
            Assert.True(rejects > 0, "no negated entity annotated in 40 dialogs");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RewardsSumToTheEpisodeReturn()
    {
        string path = TempPath("reward");
        try
        {
            const int n = 60;
            var dialogs = Generate(path, n, 5, 0.15);
            var returns = dialogs.Select(d => d.Utterances.Sum(u => u.Reward ?? 0)).ToList();
            // The task reward: -1 per seller turn, +2L on success, -L on failure or hang-up (L = 20 turns).
            foreach (var (d, ret) in dialogs.Zip(returns))
                Assert.Equal(-d.Outcome!.Turns + (d.Outcome.Success ? 40.0 : -20.0), ret, 9);
            // And the same episodes as `eval` plays them (same seeds, same policy stream).
            var report = Evaluation.Run(new RulePolicy(0.15), n, 5);
            Assert.Equal(report.Return.Mean, returns.Average(), 9);
            Assert.Equal(report.Success.Mean, dialogs.Count(d => d.Outcome!.Success) / (double)n, 9);
            Assert.Equal(report.Turns.Mean, dialogs.Average(d => d.Outcome!.Turns), 9);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SameSeedGivesIdenticalBytes()
    {
        string a = TempPath("a"), b = TempPath("b"), c = TempPath("c");
        try
        {
            Generate(a, 25, 3, 0.1);
            Generate(b, 25, 3, 0.1);
            Generate(c, 25, 4, 0.1);
            Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
            Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
        }
        finally { File.Delete(a); File.Delete(b); File.Delete(c); }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(50)]
    public void TuplesFollowTheDialogs(int maxSeqLen)
    {
        var dialogs = new CorpusGenerator(0.25).Generate(20, 9).ToList();
        foreach (var d in dialogs)
        {
            var tuples = DialogTupleExtractor.Extract(d, maxSeqLen);
            var u = d.Utterances;
            int answered = Enumerable.Range(0, u.Count - 1).Count(i => u[i].Speaker == Speaker.Seller && u[i + 1].Speaker == Speaker.Customer);
            int terminal = u[^1].Speaker == Speaker.Seller && u[^1].Reward != null ? 1 : 0;
            Assert.Equal(answered + terminal, tuples.Count);
            for (int k = 0; k < tuples.Count; k++)
            {
                var t = tuples[k];
                Assert.True(t.History.Count <= maxSeqLen);
                Assert.Equal(Math.Min(maxSeqLen, 2 * k), t.History.Count);
                Assert.Equal(u[2 * k].Text, t.SellerResponse);
                Assert.Equal(u[2 * k + 1].Text, t.CustomerNext);
                Assert.Equal(u[2 * k].Reward ?? 0, t.Reward);
                Assert.Equal(k == tuples.Count - 1, t.Done);
            }
            Assert.Equal(d.Utterances.Sum(x => x.Reward ?? 0), tuples.Sum(t => t.Reward), 9);
        }
    }

    [Fact]
    public void SegmentsMarkTrackerEntitiesWithTheirSourceSpans()
    {
        var parser = new OrderParser();
        const string text = "Two LARGE thin-crust pies w/ extra cheese & NO onions, plus three 2 liter bottles of Coca-Cola.";
        var got = CorpusGenerator.Segments(parser, text).Select(s => (s.Text, s.Annotations[0].Name)).ToList();
        var want = new List<(string, string)>
        {
            ("Two", "pizza_ordering.num.pizza"), ("LARGE", "pizza_ordering.size.pizza"), ("thin-crust", "pizza_ordering.type.crust"),
            ("extra", "pizza_ordering.preference"), ("cheese", "pizza_ordering.type.topping"), ("onions", "pizza_ordering.type.topping.reject"),
            ("three", "pizza_ordering.num.drink"), ("2 liter", "pizza_ordering.volume.drink"), ("bottles", "pizza_ordering.type.container"),
            ("Coca-Cola", "pizza_ordering.name.drink"),
        };
        Assert.Equal(want, got);
        Assert.Empty(CorpusGenerator.Segments(parser, ""));
        Assert.Empty(CorpusGenerator.Segments(parser, "\u2603 ;;; ???"));
    }

    [Theory]
    [InlineData("i'd like a large hawaiian pizza w/ bacon & ham, hold the pineapple")]
    [InlineData("Three  cans of  Dr. Pepper… and a ’meat lover’s’ pie!!")]
    [InlineData("  --  ")]
    public void TokenSpansMatchTheTokenizer(string text)
    {
        var (toks, spans) = Lexicon.TokenizeWithSpans(text);
        Assert.Equal(Lexicon.Tokenize(text), toks);
        for (int k = 0; k < toks.Length; k++)
        {
            Assert.InRange(spans[k].Start, 0, text.Length - 1);
            Assert.InRange(spans[k].End, spans[k].Start + 1, text.Length);
            string src = text[spans[k].Start..spans[k].End];
            Assert.True(Lexicon.NormalizeText(src) == toks[k] || src is "&" or "w/", $"token '{toks[k]}' spans '{src}'");
        }
    }

    [Fact]
    public void BadArgumentsGiveClearErrors()
    {
        string path = TempPath("bad");
        var (code, _, err) = Run("corpus", "--dialogs", "-5", "--seed", "1", "--out", path);
        Assert.NotEqual(0, code);
        Assert.Contains("--dialogs", err);
        Assert.Contains("-5", err);
        Assert.False(File.Exists(path));

        (code, _, err) = Run("corpus", "--dialogs", "5", "--out", path, "--epsilon", "1.5");
        Assert.NotEqual(0, code);
        Assert.Contains("--epsilon", err);

        (code, _, err) = Run("corpus", "--dialogs", "5", "--out", path, "--max-seq-len", "-1");
        Assert.NotEqual(0, code);
        Assert.Contains("--max-seq-len", err);

        // A path whose parent folder is a file cannot be written on any OS.
        string blocker = TempPath("blocker");
        File.WriteAllText(blocker, "not a folder");
        try
        {
            string bad = Path.Combine(blocker, "corpus.json");
            (code, _, err) = Run("corpus", "--dialogs", "3", "--out", bad);
            Assert.NotEqual(0, code);
            Assert.Contains("--out", err);
            Assert.Contains(bad, err);
            Assert.Equal("not a folder", File.ReadAllText(blocker));
        }
        finally { File.Delete(blocker); }

        Assert.Throws<ArgumentOutOfRangeException>(() => new CorpusGenerator(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CorpusGenerator().Generate(-1, 1).ToList());
    }
}
