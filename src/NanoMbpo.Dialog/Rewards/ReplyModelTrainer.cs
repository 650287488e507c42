// Training of the learned reply reward (ReplyRewardModel). Data: the simulator plays seeded episodes with a
// mix of RandomPolicy (even episodes) and RulePolicy(epsilon, default 0.3; odd episodes); every customer reply
// becomes (reply text, the customer's previous utterance, the seller's turn, StepInfo.Satisfaction). Episodes whose seed is 0 mod 5 (about 20%) are held out, so no
// episode has replies on both sides. Loss: plain (unweighted) cross-entropy over the three classes; Adam;
// minibatches in a seeded order. Same seed, same embedder: identical weights. Accuracy is reported overall
// and per class. Tested by tests/NanoMbpo.Bert.Tests/ReplyRewardModelTests.cs; run with `nanombpo reply-model`.
using System.Diagnostics;
using System.Globalization;
using NanoMbpo.Optim;

namespace NanoMbpo.Dialog.Rewards;

public sealed record ReplyModelOptions
{
    /// <summary>Seeds the episodes, the initialisation and the minibatch order.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Simulated dialogs (train and held-out together).</summary>
    public int Dialogs { get; init; } = 400;
    /// <summary>Passes over the training replies.</summary>
    public int Epochs { get; init; } = 30;
    /// <summary>Width of the MLP's hidden layer.</summary>
    public int Hidden { get; init; } = 64;
    /// <summary>Replies per Adam step.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Adam's step size.</summary>
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Exploration noise of the rule-based expert in the odd episodes.</summary>
    public double Epsilon { get; init; } = 0.3;
    /// <summary>Turn limit of the episodes and of the task reward term.</summary>
    public int MaxTurns { get; init; } = 20;

    public void Validate()
    {
        void Positive(int v, string name) { if (v < 1) throw new ArgumentOutOfRangeException(name, v, "expected a positive number"); }
        Positive(Dialogs, "--dialogs"); Positive(Epochs, "--epochs"); Positive(Hidden, "--hidden"); Positive(BatchSize, "--batch-size"); Positive(MaxTurns, "--max-turns");
        if (Dialogs < 5) throw new ArgumentOutOfRangeException("--dialogs", Dialogs, "expected at least 5 dialogs (one in five is held out)");
        if (Epsilon is < 0 or > 1 || double.IsNaN(Epsilon)) throw new ArgumentOutOfRangeException("--epsilon", Epsilon, "expected a probability in [0, 1]");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException("--lr", LearningRate, "expected a positive finite number");
    }
}

/// <summary>One labelled customer reply and the episode it came from.</summary>
public sealed record ReplySample(string Text, int Label, ulong EpisodeSeed, string Previous = "", string Seller = "");

/// <summary>Accuracy over a set of replies; PerClass and Counts are in ReplyRewardModel.Classes order (-1, 0, +1).</summary>
public sealed record ReplyAccuracy(double Overall, double[] PerClass, int[] Counts, int Replies)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Overall:P1} over {Replies} replies (-1: {PerClass[0]:P1} of {Counts[0]}, 0: {PerClass[1]:P1} of {Counts[1]}, +1: {PerClass[2]:P1} of {Counts[2]})");
}

/// <param name="HeldOutUnseen">Held-out replies whose exact text never occurs in the training episodes (the
/// simulator repeats many texts, so this is the stricter number).</param>
public sealed record ReplyTrainResult(ReplyRewardModel Model, ReplyAccuracy Train, ReplyAccuracy HeldOut, ReplyAccuracy HeldOutUnseen, int DistinctTexts, double FinalLoss);

public static class ReplyModelTrainer
{
    /// <summary>Held-out episodes: those whose seed is 0 mod 5.</summary>
    public static bool IsHeldOut(ulong episodeSeed) => episodeSeed % 5 == 0;

    /// <summary>Plays <paramref name="dialogs"/> seeded episodes (random policy on even ones, the noisy expert on
    /// odd ones) and returns every customer reply with its satisfaction label. <paramref name="goals"/>: PIZZA
    /// records to draw goals from (null: goals sampled from the menu).</summary>
    public static List<ReplySample> Collect(int dialogs, ulong seed, double epsilon = 0.3, IReadOnlyList<PizzaRecord>? goals = null, int maxTurns = 20)
    {
        var env = new KinPizzaEnv(goals: goals, maxTurns: maxTurns);
        IDialogPolicy[] policies = [new RandomPolicy(), new RulePolicy(epsilon)];
        var samples = new List<ReplySample>();
        for (int d = 0; d < dialogs; d++)
        {
            ulong s = DialogRng.Derive(seed, (ulong)d);
            env.Reset(s);
            var rng = new DialogRng(s ^ 0x5A71_5FAC_7104_0001UL);
            var policy = policies[d % 2];
            StepResult r;
            do
            {
                string previous = ReplyRewardModel.PreviousCustomerText(env.History);
                int before = env.History.Count;
                r = env.Step(policy.Act(env, rng));
                samples.Add(new ReplySample(r.CustomerText, r.Info.Satisfaction, s, previous, env.History[before].Text));
            } while (!r.Done);
        }
        return samples;
    }

    public static int ClassIndex(int label) => label switch
    {
        -1 => 0, 0 => 1, 1 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(label), label, "expected a satisfaction label -1, 0 or +1"),
    };

    /// <summary>sha256 over the options and every collected sample (reply, previous utterance, seller turn, label, episode):
    /// what a trained model's recipe is checked against.</summary>
    public static string Fingerprint(IReadOnlyList<ReplySample> all, ReplyModelOptions o)
    {
        using var h = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        void Add(string s) { h.AppendData(System.Text.Encoding.UTF8.GetBytes(s)); h.AppendData([0]); }
        Add(string.Create(CultureInfo.InvariantCulture, $"{o.Dialogs}|{o.Seed}|{o.Epsilon}|{o.MaxTurns}|{o.Hidden}|{o.Epochs}|{o.BatchSize}|{o.LearningRate}"));
        foreach (var x in all) { Add(x.Text); Add(x.Previous); Add(x.Seller); Add(string.Create(CultureInfo.InvariantCulture, $"{x.Label}|{x.EpisodeSeed}")); }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    /// <summary>The fingerprint the current simulator gives <paramref name="o"/>'s recipe (collects, does not train).</summary>
    public static string Fingerprint(ReplyModelOptions o) => Fingerprint(Collect(o.Dialogs, o.Seed, o.Epsilon, maxTurns: o.MaxTurns), o);

    /// <summary>Collects, trains and measures; the model's Config records the held-out accuracy.</summary>
    public static ReplyTrainResult Train(ITextEmbedder embedder, ReplyModelOptions o, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        o.Validate();
        log ??= _ => { };
        var all = Collect(o.Dialogs, o.Seed, o.Epsilon, maxTurns: o.MaxTurns);
        var train = all.Where(x => !IsHeldOut(x.EpisodeSeed)).ToList();
        var held = all.Where(x => IsHeldOut(x.EpisodeSeed)).ToList();
        if (train.Count == 0 || held.Count == 0)
            throw new InvalidOperationException($"reply model: {o.Dialogs} dialogs gave {train.Count} training and {held.Count} held-out replies; expected some of both (use more --dialogs)");
        var counts = Classes(train);
        log($"collected {all.Count} replies from {o.Dialogs} dialogs: {train.Count} to train (-1: {counts[0]}, 0: {counts[1]}, +1: {counts[2]}), {held.Count} held out");
        log(string.Create(CultureInfo.InvariantCulture, $"text-only ceiling on the held-out replies (each text given its most common label there): {TextOnlyCeiling(held):P1}"));

        // Each distinct text runs through the encoder once; the training rows index into these vectors.
        var sw = Stopwatch.StartNew();
        var distinct = all.Select(x => x.Text).Concat(all.Select(x => x.Previous)).Concat(all.Select(x => x.Seller)).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var vectors = embedder.Embed(distinct);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < distinct.Count; i++) index[distinct[i]] = i;
        log($"embedded {distinct.Count} distinct utterances in {sw.Elapsed.TotalSeconds:F1}s");

        var model = new ReplyRewardModel(embedder, o.Hidden, new Rng(o.Seed).Fork(1), o.MaxTurns);
        var opt = new Adam(model.Store, o.LearningRate);
        var shuffle = new Rng(o.Seed).Fork(2);
        int h = ReplyRewardModel.FeatureDim(embedder.Hidden), n = train.Count;
        var order = Enumerable.Range(0, n).ToArray();
        var xb = new float[o.BatchSize * h];
        var yb = new int[o.BatchSize];
        double lastLoss = double.NaN;
        for (int epoch = 1; epoch <= o.Epochs; epoch++)
        {
            shuffle.Shuffle<int>(order);
            double lossSum = 0;
            for (int b = 0; b * o.BatchSize < n; b++)
            {
                int m = Math.Min(o.BatchSize, n - b * o.BatchSize);
                for (int i = 0; i < m; i++)
                {
                    var s = train[order[b * o.BatchSize + i]];
                    float[]? V(string t) => t.Length > 0 ? vectors[index[t]] : null;
                    ReplyRewardModel.Pair(V(s.Text), V(s.Previous), V(s.Seller), xb.AsSpan(i * h, h));
                    yb[i] = ClassIndex(s.Label);
                }
                var x = Tensor.FromArray(xb.AsSpan(0, m * h).ToArray(), m, h);
                var y = Tensor.FromArray(yb.AsSpan(0, m).ToArray(), m);
                var loss = F.CrossEntropy(model.Logits(x), y);
                double l = loss.Item();
                if (!double.IsFinite(l)) throw new NonFiniteException($"reply model: loss is {l} in epoch {epoch}, batch {b}");
                opt.ZeroGrad();
                loss.Backward();
                opt.Step();
                lossSum += l * m;
            }
            lastLoss = lossSum / n;
            if (epoch == 1 || epoch == o.Epochs || epoch % 5 == 0)
                log($"epoch {epoch,3}/{o.Epochs}  loss {lastLoss:F4}  held-out {Evaluate(model, held).Overall:P1}");
        }
        var trainAcc = Evaluate(model, train);
        var heldAcc = Evaluate(model, held);
        var trainTexts = train.Select(x => x.Text).ToHashSet(StringComparer.Ordinal);
        var unseenAcc = Evaluate(model, held.Where(x => !trainTexts.Contains(x.Text)).ToList());
        model.SetConfig(model.Config with
        {
            HeldOutAccuracy = heldAcc.Overall, HeldOutReplies = heldAcc.Replies,
            HeldOutUnseenAccuracy = unseenAcc.Replies == 0 ? null : unseenAcc.Overall, HeldOutUnseenReplies = unseenAcc.Replies,
            HeldOutPerClass = new Dictionary<string, double> { ["-1"] = heldAcc.PerClass[0], ["0"] = heldAcc.PerClass[1], ["+1"] = heldAcc.PerClass[2] },
            Seed = o.Seed, Dialogs = o.Dialogs, Epochs = o.Epochs, Loss = "cross-entropy (unweighted)",
            TrainingDataSha256 = Fingerprint(all, o),
        });
        return new ReplyTrainResult(model, trainAcc, heldAcc, unseenAcc, distinct.Count, lastLoss);
    }

    /// <summary>The best accuracy any classifier of the reply text alone can reach on <paramref name="samples"/>: the
    /// simulator gives some identical texts different labels ("No thanks." declines an upsell (0) or a second offer
    /// (-1); a repeated answer restates (−1) what first was progress (+1)). The model also sees the previous utterance.</summary>
    public static double TextOnlyCeiling(IReadOnlyList<ReplySample> samples) => samples.Count == 0 ? double.NaN
        : (double)samples.GroupBy(x => x.Text, StringComparer.Ordinal).Sum(g => g.GroupBy(x => x.Label).Max(l => l.Count())) / samples.Count;

    static int[] Classes(IEnumerable<ReplySample> samples)
    {
        var c = new int[3];
        foreach (var s in samples) c[ClassIndex(s.Label)]++;
        return c;
    }

    /// <summary>Arg-max accuracy of <paramref name="model"/> on labelled replies, overall and per class
    /// (a class with no replies reports NaN).</summary>
    public static ReplyAccuracy Evaluate(ReplyRewardModel model, IReadOnlyList<ReplySample> samples)
    {
        ArgumentNullException.ThrowIfNull(model);
        var distinct = samples.Select(x => (x.Text, x.Previous, x.Seller)).Distinct().ToList();
        var p = model.Probabilities(distinct.Select(x => x.Text).ToList(), distinct.Select(x => x.Previous).ToList(), distinct.Select(x => x.Seller).ToList());
        var predicted = new Dictionary<(string, string, string), int>();
        for (int i = 0; i < distinct.Count; i++)
        {
            int best = 0;
            for (int k = 1; k < 3; k++) if (p[i * 3 + k] > p[i * 3 + best]) best = k;
            predicted[distinct[i]] = best;
        }
        var counts = new int[3];
        var right = new int[3];
        foreach (var s in samples)
        {
            int c = ClassIndex(s.Label);
            counts[c]++;
            if (predicted[(s.Text, s.Previous, s.Seller)] == c) right[c]++;
        }
        int total = counts.Sum();
        return new ReplyAccuracy(total == 0 ? double.NaN : (double)right.Sum() / total,
            [.. Enumerable.Range(0, 3).Select(c => counts[c] == 0 ? double.NaN : (double)right[c] / counts[c])], counts, total);
    }
}
