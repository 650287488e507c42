// The learned reply reward (NanoMbpo.Dialog.Rewards.ReplyRewardModel, ReplyModelTrainer, BertTextEmbedder) on
// the real all-MiniLM-L6-v2: held-out accuracy (by episode seed) and accuracy on dialogs with real PIZZA goals
// above floors set a little under the measured values, reward = task reward at ReplyWeight 0 and moving with
// the label otherwise, batch scores equal one-by-one scores, save -> load gives identical scores, a model for
// another checkpoint and a truncated or reshaped weights file are refused naming the file, same seed -> same
// weights, and `nanombpo reply-model` ends with its accuracy line. Satisfaction labels themselves:
// tests/NanoMbpo.Tests/Dialog/SatisfactionTests.cs.
using System.Text.RegularExpressions;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Rewards;
using NanoMbpo.IO;

namespace NanoMbpo.Bert.Tests;

public class ReplyRewardModelTests
{
    /// <summary>The options the accuracy floors were measured with (400 dialogs, 30 epochs: 98.1% held out).</summary>
    static readonly ReplyModelOptions Options = new() { Seed = 1, Dialogs = 400, Epochs = 30 };

    static readonly Lazy<string> cacheDir = new(TestData.TempDir);
    static readonly Lazy<BertTextEmbedder> embedder = new(() => new BertTextEmbedder(MiniLm.Checkpoint, cacheDir.Value));
    static readonly Lazy<ReplyTrainResult> trained = new(() => ReplyModelTrainer.Train(embedder.Value, Options));

    static ReplyRewardModel Model => trained.Value.Model;

    [MiniLmFact]
    public void HeldOutAccuracyOnMiniLmIsAtLeast96Percent()
    {
        var r = trained.Value;
        // Measured (seed 1, 400 dialogs): 99.0% of 521 held-out replies; -1 98.1%, 0 100%, +1 99.6%
        // (v1, the reply text alone: 98.1%, the text-only ceiling).
        Assert.True(r.HeldOut.Overall >= 0.97, $"held-out {r.HeldOut}");
        Assert.True(r.HeldOut.Replies >= 300, $"only {r.HeldOut.Replies} held-out replies");
        Assert.True(r.HeldOut.PerClass[0] >= 0.93 && r.HeldOut.PerClass[2] >= 0.97 && r.HeldOut.PerClass[1] >= 0.75, $"per class {r.HeldOut}");
        // With the seller's turn and the previous utterance it beats the best any classifier of the reply text
        // alone can do (the simulator gives one text several labels).
        var held = ReplyModelTrainer.Collect(Options.Dialogs, Options.Seed, Options.Epsilon).Where(x => ReplyModelTrainer.IsHeldOut(x.EpisodeSeed)).ToList();
        Assert.Equal(r.HeldOut.Replies, held.Count);
        Assert.True(r.HeldOut.Overall > ReplyModelTrainer.TextOnlyCeiling(held), $"held-out {r.HeldOut.Overall}, text-only ceiling {ReplyModelTrainer.TextOnlyCeiling(held)}");
        Assert.Equal(r.HeldOut.Overall, Model.Config.HeldOutAccuracy);
        Assert.Equal(MiniLm.Checkpoint.ModelSha256, Model.Config.BertSha256);
        Assert.Equal("mean", Model.Config.Pooling);
    }

    [MiniLmFact("pizza/PIZZA_dev.json")]
    public void AccuracyOnDialogsWithRealPizzaGoalsIsAtLeast93Percent()
    {
        var goals = PizzaFile.Read(TestData.Shared("pizza/PIZZA_dev.json")!);
        var samples = ReplyModelTrainer.Collect(200, seed: 1_000_004, goals: goals);
        var acc = ReplyModelTrainer.Evaluate(Model, samples);
        // Measured (400 such dialogs): 99.4% of 2674 replies; -1 98.9%, 0 98.6%, +1 99.9% (v1: 96.0%).
        Assert.True(acc.Overall >= 0.96, $"PIZZA goals {acc}");
        Assert.True(acc.Replies >= 500, $"only {acc.Replies} replies");
    }

    [MiniLmFact]
    public void RewardIsTheTaskRewardAtWeightZeroAndMovesWithTheLabel()
    {
        var task = new TaskReward(Model.MaxTurns);
        var history = new List<Utterance> { new(Speaker.Seller, KinPizzaEnv.Greeting), new(Speaker.Customer, "Hi, I'd like a large pizza.") };
        RewardContext Ctx(string reply, bool done = false, bool success = false) => new(history, "Can I get a name for the order?", reply, done, success, false);
        // (the seller's turn in Ctx is the one the scores below are given)
        string good = "My name is Grace.", bad = "I already told you that.", neutral = "No thanks.";
        var m = ReplyRewardModel.Load(SaveTo(TestData.TempDir()), embedder.Value);
        m.ReplyWeight = 0;
        foreach (var c in new[] { Ctx(good), Ctx(bad), Ctx("Great, thank you so much!", true, true), Ctx("Forget it, I'll order somewhere else.", true) })
            Assert.Equal(task.Reward(c), m.Reward(c));
        m.ReplyWeight = 1.0;
        string prev = history[1].Text, asked = "Can I get a name for the order?";
        var s = m.Score([good, bad, neutral], [prev, prev, prev], [asked, asked, asked]);
        Assert.True(s[0] > 0.5 && s[1] < -0.5 && Math.Abs(s[2]) < 0.5, $"scores {string.Join(", ", s)}");
        Assert.True(m.Reward(Ctx(good)) > task.Reward(Ctx(good)));
        Assert.True(m.Reward(Ctx(bad)) < task.Reward(Ctx(bad)));
        Assert.Equal(task.Reward(Ctx(good)) + s[0], m.Reward(Ctx(good)), 12);
        m.ReplyWeight = 2.5;
        Assert.Equal(task.Reward(Ctx(bad)) + 2.5 * s[1], m.Reward(Ctx(bad)), 12);
        Assert.Equal("reply-model", m.Name);
    }

    [MiniLmFact]
    public void BatchScoresEqualOneByOneScoresAndFollowTheHiddenLabels()
    {
        var samples = ReplyModelTrainer.Collect(40, seed: 99);
        var texts = samples.Select(x => x.Text).ToList();
        var prevs = samples.Select(x => x.Previous).ToList(); var sellers = samples.Select(x => x.Seller).ToList();
        var batch = Model.Score(texts, prevs, sellers);
        for (int i = 0; i < texts.Count; i += 7) Assert.Equal(Model.Score([texts[i]], [prevs[i]], [sellers[i]])[0], batch[i], 5);
        double Mean(int label) => samples.Select((x, i) => (x, i)).Where(p => p.x.Label == label).Average(p => batch[p.i]);
        Assert.True(Mean(1) > 0.8 && Mean(-1) < -0.8 && Mean(1) > Mean(0) && Mean(0) > Mean(-1), $"+1 {Mean(1)}, 0 {Mean(0)}, -1 {Mean(-1)}");
    }

    [MiniLmFact]
    public void AnAnswerRepeatedAfterARequestToRepeatIsNotProgress()
    {
        // The v1 model read the reply alone, so "The usual crust is fine." repeated after "Sorry, could you repeat
        // that?" scored as the progress it is when it answers "Which crust?" (for the next pizza too), and agents
        // learned to ask for repeats for reward. The same words must now score by what they answer.
        var samples = ReplyModelTrainer.Collect(300, seed: 4242);
        var repeats = samples.Where(x => x.Text == x.Previous && x.Label < 1 && samples.Any(y => y.Text == x.Text && y.Label == 1)).ToList();
        var progress = samples.Where(x => x.Label == 1 && repeats.Any(r => r.Text == x.Text)).ToList();
        Assert.True(repeats.Count >= 5 && progress.Count >= 10, $"{repeats.Count} repeats, {progress.Count} answers with the same words");
        double[] S(List<ReplySample> xs) => Model.Score(xs.Select(x => x.Text).ToList(), xs.Select(x => x.Previous).ToList(), xs.Select(x => x.Seller).ToList());
        double sr = S(repeats).Average(), sp = S(progress).Average();
        Assert.True(sr < 0 && sp > 0.8, $"repeats {sr:F2}, the same words as progress {sp:F2}");
    }

    static string SaveTo(string dir) { Model.Save(dir); return dir; }

    [MiniLmFact]
    public void SaveLoadRoundTripGivesIdenticalScores()
    {
        var dir = SaveTo(Path.Combine(TestData.TempDir(), "model"));
        Assert.Empty(AtomicFile.LeftoverTemporaries(dir));
        var loaded = ReplyRewardModel.Load(dir, embedder.Value);
        var samples = ReplyModelTrainer.Collect(20, seed: 5);
        var texts = samples.Select(x => x.Text).ToList(); var prevs = samples.Select(x => x.Previous).ToList(); var sellers = samples.Select(x => x.Seller).ToList();
        Assert.Equal(Model.Score(texts, prevs, sellers), loaded.Score(texts, prevs, sellers));
        Assert.Equal(Model.Store.Data<float>().ToArray(), loaded.Store.Data<float>().ToArray());
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(Model.Config), System.Text.Json.JsonSerializer.Serialize(loaded.Config));
    }

    /// <summary>The real embedder under another checkpoint's name (what a model for another BERT would see).</summary>
    sealed class Renamed(ITextEmbedder inner, string sha) : ITextEmbedder
    {
        public int Hidden => inner.Hidden;
        public string CheckpointSha256 => sha;
        public string Pooling => inner.Pooling;
        public float[][] Embed(IReadOnlyList<string> texts) => inner.Embed(texts);
    }

    [MiniLmFact]
    public void AModelTrainedOnAnotherCheckpointIsRefused()
    {
        var dir = SaveTo(Path.Combine(TestData.TempDir(), "model"));
        string other = new('e', 64);
        var e = Assert.Throws<InvalidDataException>(() => ReplyRewardModel.Load(dir, new Renamed(embedder.Value, other)));
        Assert.Contains(Path.Combine(dir, ReplyRewardModel.ConfigFile), e.Message);
        Assert.Contains(MiniLm.Checkpoint.ModelSha256, e.Message);   // what the model was trained on
        Assert.Contains(other, e.Message);                           // what it was given
        // The same check from the file's side: a config naming another checkpoint.
        var cfg = Path.Combine(dir, ReplyRewardModel.ConfigFile);
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace(MiniLm.Checkpoint.ModelSha256, other));
        e = Assert.Throws<InvalidDataException>(() => ReplyRewardModel.Load(dir, embedder.Value));
        Assert.Contains(other, e.Message);
        Assert.Contains(MiniLm.Checkpoint.ModelSha256, e.Message);
    }

    [MiniLmFact]
    public void TruncatedOrReshapedWeightsAreRefusedNamingTheFile()
    {
        var dir = SaveTo(Path.Combine(TestData.TempDir(), "model"));
        var weights = Path.Combine(dir, ReplyRewardModel.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 100)]);
        var e = Assert.ThrowsAny<Exception>(() => ReplyRewardModel.Load(dir, embedder.Value));
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains(weights, e.Message);

        // A file with the right keys but another hidden width than the config says.
        var cfg = Path.Combine(dir, ReplyRewardModel.ConfigFile);
        File.WriteAllBytes(weights, bytes);
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"hidden\": 64", "\"hidden\": 32"));
        e = Assert.Throws<InvalidDataException>(() => ReplyRewardModel.Load(dir, embedder.Value));
        Assert.Contains(weights, e.Message);
        Assert.Contains("shape", e.Message);
        File.Delete(cfg);
        Assert.Contains(cfg, Assert.Throws<FileNotFoundException>(() => ReplyRewardModel.Load(dir, embedder.Value)).Message);
    }

    [MiniLmFact]
    public void TheRecipeFingerprintIsRecordedStableAndChangesWithTheData()
    {
        var fp = ReplyModelTrainer.Fingerprint(Options);
        Assert.Equal(fp, ReplyModelTrainer.Fingerprint(Options));                       // a pure function of the simulator and options
        Assert.Equal(fp, trained.Value.Model.Config.TrainingDataSha256);                // what Train records
        Assert.NotEqual(fp, ReplyModelTrainer.Fingerprint(Options with { Seed = Options.Seed + 1 }));
        var samples = ReplyModelTrainer.Collect(Options.Dialogs, Options.Seed, Options.Epsilon, maxTurns: Options.MaxTurns);
        samples[^1] = samples[^1] with { Label = samples[^1].Label == 1 ? 0 : 1 };    // one label changed by the simulator
        Assert.NotEqual(fp, ReplyModelTrainer.Fingerprint(samples, Options));
    }

    [MiniLmFact]
    public void SameSeedSameWeights()
    {
        var o = Options with { Dialogs = 60, Epochs = 3 };
        var a = ReplyModelTrainer.Train(embedder.Value, o).Model.Store.Data<float>().ToArray();
        var b = ReplyModelTrainer.Train(embedder.Value, o).Model.Store.Data<float>().ToArray();
        var c = ReplyModelTrainer.Train(embedder.Value, o with { Seed = 2 }).Model.Store.Data<float>().ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}

[Collection("Console")]
public class ReplyModelCommandTests
{
    [MiniLmFact]
    public void CommandTrainsSavesAndEndsWithTheAccuracyLine()
    {
        var dir = Path.Combine(TestData.TempDir(), "reply");
        var (code, output, err) = Run("reply-model", "--out", dir, "--bert", MiniLm.Dir, "--dialogs", "60", "--epochs", "3", "--seed", "7", "--threads", "2");
        Assert.True(code == 0, err);
        var last = output.TrimEnd().Split('\n')[^1];
        var m = Regex.Match(last, @"^held-out accuracy (\d+\.\d)% over (\d+) replies$");
        Assert.True(m.Success, last);
        Assert.Contains("epoch", output);
        using var emb = new BertTextEmbedder(MiniLm.Checkpoint, Path.Combine(dir, "embedding-cache"));   // the command's default cache
        var model = ReplyRewardModel.Load(dir, emb);
        Assert.Equal(int.Parse(m.Groups[2].Value), model.Config.HeldOutReplies);
        Assert.Equal(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 100 * model.Config.HeldOutAccuracy!.Value, 1);
        Assert.Equal(7UL, model.Config.Seed);

        (code, _, err) = Run("reply-model", "--out", dir, "--dialogs", "0");
        Assert.NotEqual(0, code);
    }

    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new System.CommandLine.RootCommand("test");
        foreach (var c in NanoMbpo.Trainer.Commands.CommandList.All()) root.Subcommands.Add(c);
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o); Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}
