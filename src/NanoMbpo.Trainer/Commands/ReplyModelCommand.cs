// `nanombpo reply-model --out DIR [--bert DIR] [--dialogs N] [--seed S] [--epochs E] [--goals PIZZA.json]
// [--cache DIR] [--threads T]`: trains the learned reply reward (ReplyRewardModel over BERT embeddings of
// the customer's replies, labels from the simulator) and saves it into DIR (reply_model.safetensors +
// reply_model.json). Progress on stdout; with --goals it also reports accuracy on dialogs whose goals come
// from real PIZZA orders. The last line is `held-out accuracy X% over N replies`.
// Tested by tests/NanoMbpo.Bert.Tests/ReplyRewardModelTests.cs (and the option walk of
// tests/NanoMbpo.Tests/Reliability/CliArgumentTests.cs).
using System.CommandLine;
using System.Globalization;
using NanoMbpo.Bert;
using NanoMbpo.Cpu;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Rewards;

namespace NanoMbpo.Trainer.Commands;

public static class ReplyModelCommand
{
    public static Command Create()
    {
        var d = new ReplyModelOptions();
        var outDir = new Option<string>("--out") { Description = "folder for reply_model.safetensors and reply_model.json", Required = true };
        var bert = BertCommon.BertOption();
        var dialogs = new Option<int>("--dialogs") { Description = "simulated dialogs (one in five held out by episode seed)", DefaultValueFactory = _ => d.Dialogs };
        var seed = new Option<ulong>("--seed") { Description = "seed for the episodes, initialisation and batch order", DefaultValueFactory = _ => d.Seed };
        var epochs = new Option<int>("--epochs") { Description = "passes over the training replies", DefaultValueFactory = _ => d.Epochs };
        var goals = new Option<string?>("--goals") { Description = "PIZZA file (e.g. PIZZA_dev.json): also report accuracy on dialogs with its real orders as goals" };
        var cache = new Option<string?>("--cache") { Description = "utterance embedding cache folder (default: DIR/embedding-cache)" };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("reply-model", "Train the learned reply reward: a classifier of customer replies (-1 annoyed, 0 neutral, +1 progress) over BERT embeddings.")
        {
            outDir, bert, dialogs, seed, epochs, goals, cache, threads,
        };
        cmd.SetAction(r =>
        {
            CpuThreads.Count = Math.Max(1, r.GetValue(threads));
            var o = d with { Dialogs = r.GetValue(dialogs), Seed = r.GetValue(seed), Epochs = r.GetValue(epochs) };
            o.Validate();
            string dir = r.GetValue(outDir)!;
            // Read the goals before the long part, so a bad file fails at once.
            var pizza = r.GetValue(goals) is { } g ? PizzaFile.Read(g) : null;
            var ck = BertCheckpoint.Load(BertCommon.Resolve(r.GetValue(bert)));
            using var embedder = new BertTextEmbedder(ck, r.GetValue(cache) ?? Path.Combine(dir, "embedding-cache"));
            Console.WriteLine($"nanombpo reply-model: {o.Dialogs} dialogs, seed {o.Seed}, {o.Epochs} epochs, BERT {ck.ModelSha256[..12]} ({embedder.Pooling} pooling, {embedder.Hidden} features)");
            var res = ReplyModelTrainer.Train(embedder, o, Console.WriteLine);
            Console.WriteLine($"train:    {res.Train}");
            Console.WriteLine($"held-out: {res.HeldOut}");
            Console.WriteLine($"held-out, texts unseen in training: {res.HeldOutUnseen}");
            if (pizza is not null)
            {
                var real = ReplyModelTrainer.Collect(o.Dialogs, o.Seed + 1_000_003, o.Epsilon, pizza, o.MaxTurns);
                var acc = ReplyModelTrainer.Evaluate(res.Model, real);
                Console.WriteLine($"PIZZA goals ({Path.GetFileName(r.GetValue(goals))}): {acc}; text-only ceiling {ReplyModelTrainer.TextOnlyCeiling(real).ToString("P1", CultureInfo.InvariantCulture)}");
                res.Model.SetConfig(res.Model.Config with { PizzaGoalsAccuracy = acc.Overall, PizzaGoalsReplies = acc.Replies });
            }
            res.Model.Save(dir);
            Console.WriteLine($"wrote {Path.Combine(dir, ReplyRewardModel.WeightsFile)} and {ReplyRewardModel.ConfigFile}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"held-out accuracy {100 * res.HeldOut.Overall:F1}% over {res.HeldOut.Replies} replies"));
            return 0;
        });
        return cmd;
    }
}
