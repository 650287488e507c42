// `nanombpo train`: the main job. With no arguments it trains the seller with the paper's method —
// latent-space MBPO with discrete SAC over BERT utterance embeddings (the real all-MiniLM-L6-v2 from the
// NuGet cache), online from scratch on the KinPizza simulator — then evaluates it beside the random and
// rule-based policies and prints one table (success with 95% CI, turns, return, real dialogs, wall time).
// `--method sac|dyna` runs the ablations on the same harness, `--method dqn|reinforce|mpc|mpc-rs` the latent
// baselines (LatentDqn.cs, LatentReinforce.cs, LatentMpc.cs), `--method bc` the behaviour-cloning baseline (BcTrain.cs).
// `--device cuda|ilgpu-cpu` moves mbpo/sac/dyna's networks to the device (SellerMbpo.MoveTo); auto keeps the CPU.
// Tested by tests/NanoMbpo.Tests/Agent/TrainCommandTests.cs.
using System.CommandLine;
using System.Text.Json;
using NanoMbpo.Agent;
using NanoMbpo.Bert;
using NanoMbpo.Cpu;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Rewards;

namespace NanoMbpo.Trainer.Commands;

internal static class TrainCommand
{
    static Func<int, IRewardModel> ReplyFactory(string? bert, string? dir, double weight)
    {
        if (!double.IsFinite(weight) || weight < 0) throw new ArgumentOutOfRangeException("--reply-weight", weight, "expected a finite weight >= 0");
        var m = SellerRun.ReplyModel(bert, dir, Console.WriteLine);
        m.ReplyWeight = weight;
        return turns => turns == m.MaxTurns ? m : throw new ArgumentException($"--reply-model: the model scores {m.MaxTurns}-turn dialogs, the run uses {turns}");
    }

    public static Command Create()
    {
        var method = new Option<string>("--method") { Description = "mbpo (the paper's method), sac (model-free), dyna (k = 1), the baselines dqn, reinforce, mpc (CEM through a learned model), mpc-rs (random shooting), or bc (behaviour cloning).", DefaultValueFactory = _ => "mbpo" };
        method.AcceptOnlyFromAmong([.. SellerMethods.Names, "bc"]);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the dialogs, initialisation, sampling and evaluation.", DefaultValueFactory = _ => 1UL };
        var dialogs = new Option<int?>("--dialogs") { Description = $"Real dialogs with the simulator (default {new SellerOptions().Dialogs}; bc: {new BcOptions().Dialogs} expert dialogs)." };
        var evalEpisodes = new Option<int>("--eval-episodes") { Description = "Final evaluation dialogs per policy.", DefaultValueFactory = _ => 200 };
        var threads = new Option<int>("--threads") { Description = "CPU threads for the kernels.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var device = DeviceOption.Create(description: $"Where the networks train: {DeviceOption.Choices}. mbpo, sac and dyna move theirs to cuda or ilgpu-cpu; auto keeps the seller agent on the CPU (bc: CUDA when present).");
        var outDir = new Option<string>("--out") { Description = "Run directory: config, metrics, plots, checkpoint, summary.", DefaultValueFactory = _ => Path.Combine("runs", "train") };
        var bert = BertCommon.BertOption();
        var pooling = new Option<string>("--pooling") { Description = "Utterance embedding: cls (the paper) or mean.", DefaultValueFactory = _ => "cls" };
        pooling.AcceptOnlyFromAmong("cls", "mean");
        var reward = new Option<string>("--reward") { Description = "Per-turn reward: reply-model (task reward + the learned reply reward, the default), task (simulator only), llm (task reward + the LLM judge at --llm-endpoint).", DefaultValueFactory = _ => "reply-model" };
        reward.AcceptOnlyFromAmong("reply-model", "task", "llm");
        var replyModel = new Option<string?>("--reply-model") { Description = "A trained reply model directory (nanombpo reply-model); default: BERT_DIR/reply-model, trained once when absent." };
        // 3: a reply that moves the order forward outweighs the turn's −1 cost, a redundant or irrelevant
        // turn costs −4; at 1.0 progress and delay cancel and 800 dialogs found no successful policy.
        var replyWeight = new Option<double>("--reply-weight") { Description = "Weight of the reply reward beside the task reward.", DefaultValueFactory = _ => 3.0 };
        var llm = new Option<string?>("--llm-endpoint") { Description = "OpenAI-compatible base URL of the LLM judge (with --reward llm)." };
        var llmModel = new Option<string>("--llm-model") { Description = "Model name sent to the LLM judge.", DefaultValueFactory = _ => "default" };
        var embedder = new Option<string>("--embedder") { Description = "Utterance embeddings: bert (the paper) or hashed (a bag of hashed words with no model: fast checks only).", DefaultValueFactory = _ => "bert" };
        embedder.AcceptOnlyFromAmong("bert", "hashed");
        var goals = new Option<string?>("--goals") { Description = "PIZZA-format file whose orders become the customers' goals and opening lines." };
        var updates = new Option<int?>("--updates-per-step") { Description = $"SAC gradient steps per real turn (default {new SellerOptions().UpdatesPerStep})." };
        var set = new Option<string[]>("--set") { Description = "Override an option of the agent: Name=Value with a dotted path, e.g. Sac.TargetEntropyScale=0.4 (repeatable).", AllowMultipleArgumentsPerToken = true };
        var warm = new Option<string?>("--warm-start") { Description = "A Taskmaster-format corpus (nanombpo corpus): its seller turns go into the real buffer and the world model is fitted on them before the online dialogs (which then start without random dialogs); its dialogs are counted apart." };
        var epochs = new Option<int>("--epochs") { Description = "bc only: passes over the collected states.", DefaultValueFactory = _ => new BcOptions().Epochs };
        var lr = new Option<double>("--lr") { Description = "bc only: Adam learning rate.", DefaultValueFactory = _ => new BcOptions().LearningRate };
        var cmd = new Command("train", "Main job: train the seller (latent MBPO-SAC by default) on the KinPizza simulator and compare it with the baselines.")
        {
            method, seed, dialogs, evalEpisodes, threads, device, outDir, bert, pooling, embedder, reward, replyModel, replyWeight, llm, llmModel, goals, updates, set, warm, epochs, lr,
        };
        cmd.SetAction(p =>
        {
            int t = p.GetValue(threads);
            if (t < 1) throw new ArgumentOutOfRangeException("--threads", t, "expected at least 1");
            int? n = p.GetValue(dialogs);
            if (n is < 1) throw new ArgumentOutOfRangeException("--dialogs", n, "expected a positive number of dialogs");
            int ev = p.GetValue(evalEpisodes);
            if (ev < 1) throw new ArgumentOutOfRangeException("--eval-episodes", ev, "expected a positive number of episodes");
            int? g = p.GetValue(updates);
            if (g is < 1) throw new ArgumentOutOfRangeException("--updates-per-step", g, "expected a positive number");
            CpuThreads.Count = t;
            string m = p.GetValue(method)!, dir = p.GetValue(outDir)!;
            if (m == "bc")
            {
                if (p.GetValue(warm) != null) throw new ArgumentException("--warm-start: only the latent agents (mbpo, sac, dyna) take a warm start; bc learns from the expert's own dialogs");
                var bo = new BcOptions { Seed = p.GetValue(seed), Dialogs = n ?? new BcOptions().Dialogs, Epochs = p.GetValue(epochs), EvalEpisodes = ev, LearningRate = p.GetValue(lr) };
                return BcTrain.Run(bo, t, p.GetValue(device)!, dir);
            }
            var sm = SellerMethods.Parse(m);
            // auto keeps the seller agent on the CPU, where every result in bench/RESULTS.md was measured and its
            // small networks (batch 128, width 128) run; cuda or ilgpu-cpu put them on that device
            Device? agentDevice = null;
            if (p.GetValue(device) is "cuda" or "ilgpu-cpu")
            {
                if (sm is not (SellerMethod.Mbpo or SellerMethod.Sac or SellerMethod.Dyna))
                    throw new ArgumentException($"--device {p.GetValue(device)}: only mbpo, sac and dyna run on a device; --method {m} runs on the CPU (use cpu or auto)");
                agentDevice = DeviceOption.Resolve(p.GetValue(device)!, Console.Out, Console.Error);
                if (agentDevice == null) return 2;
            }
            var records = p.GetValue(goals) is { } gp ? PizzaFile.Read(gp) : null;
            var o = SellerOptions.For(sm, n ?? new SellerOptions().Dialogs);
            if (g is { } gv) o = o with { UpdatesPerStep = gv };
            string? warmPath = p.GetValue(warm);
            if (warmPath != null && !File.Exists(warmPath)) throw new FileNotFoundException($"--warm-start: corpus file '{warmPath}' does not exist (write one with nanombpo corpus)", warmPath);
            if (warmPath != null) o = o with { RandomDialogs = 0 };
            o = OptionOverrides.Apply(o, p.GetValue(set) ?? []);
            o.Validate();
            string rewardName = p.GetValue(reward)!;
            Func<int, IRewardModel> rf = rewardName switch
            {
                "llm" => _ => new LlmJudgeReward(new LlmJudgeOptions
                {
                    BaseUrl = p.GetValue(llm) ?? throw new ArgumentException("--llm-endpoint: required with --reward llm (an OpenAI-compatible base URL)"),
                    Model = p.GetValue(llmModel)!,
                }),
                "task" => turns => new TaskReward(turns),
                _ => ReplyFactory(p.GetValue(bert), p.GetValue(replyModel), p.GetValue(replyWeight)),
            };
            ulong s = p.GetValue(seed);
            var pool = p.GetValue(pooling) == "mean" ? Pooling.Mean : Pooling.Cls;
            Console.WriteLine($"nanombpo train: {m} on KinPizza, {(warmPath == null ? "online from scratch" : "warm-started from " + warmPath)}, {o.Dialogs} real dialogs, seed {s}, {t} threads, reward {rewardName}");
            var table = p.GetValue(embedder) == "hashed" ? new UtteranceTable(new HashedUtteranceEmbedder(128)) : SellerRun.Table(p.GetValue(bert), pool, Console.WriteLine);
            var spec = new SellerRunSpec(o, s, dir, p.GetValue(bert), pool, rf, rewardName, records, ev, warmPath, agentDevice);
            var r = SellerRun.Run(spec, table, Console.WriteLine);
            var expert = Evaluation.Run(new RulePolicy(), ev, s ^ 0xF17A1UL, records);
            var random = Evaluation.Run(new RandomPolicy(), ev, s ^ 0xF17A1UL, records);
            Console.WriteLine();
            SellerRun.PrintTable([(r.Final, o.Dialogs, r.Seconds), (expert, 0, 0), (random, 0, 0)]);
            SellerRun.Plot(dir, $"{m} on KinPizza, seed {s}", [(r.Final.Policy, r.Agent.Curve)], expert, random);
            var summary = new
            {
                job = m, seed = s, dialogs = o.Dialogs, warm_start_dialogs = (r.Agent as MbpoAgent)?.Agent.WarmStartDialogs ?? 0, turns = r.Agent.Turns, wall_seconds = r.Seconds, reward = rewardName,
                curve = r.Agent.Curve,
                policies = new[] { SellerRun.Row(r.Final, o.Dialogs, r.Seconds), SellerRun.Row(expert, 0, 0), SellerRun.Row(random, 0, 0) },
            };
            NanoMbpo.IO.AtomicFile.WriteAllText(Path.Combine(dir, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"wrote config.json, metrics.csv, success.png, return.png, checkpoint/, summary.json in {dir}");
            Console.WriteLine(FormattableString.Invariant($"{r.Final.Policy} success {r.Final.Success.Mean:P1} vs expert {expert.Success.Mean:P1} ({r.Final.Success.Mean / Math.Max(1e-9, expert.Success.Mean):P0} of the expert) after {o.Dialogs} real dialogs in {r.Seconds:F0} s"));
            return 0;
        });
        return cmd;
    }
}
