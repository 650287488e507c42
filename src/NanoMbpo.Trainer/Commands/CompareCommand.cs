// `nanombpo compare --methods mbpo,sac,dyna,dqn,reinforce,mpc,mpc-rs,bc --seeds 3 --dialogs N`: trains every method on the same
// budget of real dialogs with the same harness, reward and evaluation, per seed, then writes one markdown
// table (final greedy success with a 95% interval over seeds, pooled Wilson interval over all evaluation
// dialogs, the real dialogs each seed needed to first reach 80% success, return, wall time) and one plot
// of success against real dialogs (mean over seeds), all methods on the same axes, expert and random as
// lines. bc is behaviour cloning of the expert on N expert dialogs (its dialogs are the expert's, counted
// as its budget). Tested by tests/NanoMbpo.Tests/Agent/TrainCommandTests.cs.
using System.CommandLine;
using System.Globalization;
using System.Text;
using NanoMbpo.Agent;
using NanoMbpo.Bert;
using NanoMbpo.Cpu;
using NanoMbpo.Dialog;
using NanoMbpo.IO;

namespace NanoMbpo.Trainer.Commands;

internal static class CompareCommand
{
    public static readonly string[] Known = [.. SellerMethods.Names, "bc"];

    public static Command Create()
    {
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods: {string.Join(",", Known)}.", DefaultValueFactory = _ => "mbpo,sac,dyna,bc" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per method (1, 2, … N).", DefaultValueFactory = _ => 3 };
        var dialogs = new Option<int>("--dialogs") { Description = "Real dialogs each method may use.", DefaultValueFactory = _ => new SellerOptions().Dialogs };
        var evalEpisodes = new Option<int>("--eval-episodes") { Description = "Final evaluation dialogs per run.", DefaultValueFactory = _ => 200 };
        var threads = new Option<int>("--threads") { Description = "CPU threads for the kernels.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var outDir = new Option<string>("--out") { Description = "Folder for per-run directories, compare.md and compare_success.png.", DefaultValueFactory = _ => Path.Combine("runs", "compare") };
        var bert = BertCommon.BertOption();
        var embedder = new Option<string>("--embedder") { Description = "bert (default) or hashed (fast checks only).", DefaultValueFactory = _ => "bert" };
        embedder.AcceptOnlyFromAmong("bert", "hashed");
        var replyWeight = new Option<double>("--reply-weight") { Description = "Weight of the learned reply reward beside the task reward.", DefaultValueFactory = _ => 3.0 };
        var reward = new Option<string>("--reward") { Description = "reply-model (task reward + the learned reply reward, the default) or task.", DefaultValueFactory = _ => "reply-model" };
        reward.AcceptOnlyFromAmong("reply-model", "task");
        var set = new Option<string[]>("--set") { Description = "Override an agent option for every method: Name=Value (repeatable).", AllowMultipleArgumentsPerToken = true };
        var cmd = new Command("compare", "Train every method on the same budget of real dialogs and compare them (table and plot).")
        {
            methods, seeds, dialogs, evalEpisodes, threads, outDir, bert, embedder, replyWeight, reward, set,
        };
        cmd.SetAction(p =>
        {
            var ms = p.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var m in ms)
                if (!Known.Contains(m)) throw new ArgumentException($"--methods: unknown method '{m}'; expected some of {string.Join(",", Known)}");
            int ns = p.GetValue(seeds), n = p.GetValue(dialogs), ev = p.GetValue(evalEpisodes), t = p.GetValue(threads);
            if (ns < 1) throw new ArgumentOutOfRangeException("--seeds", ns, "expected at least 1");
            if (n < 1) throw new ArgumentOutOfRangeException("--dialogs", n, "expected a positive number of dialogs");
            if (ev < 1) throw new ArgumentOutOfRangeException("--eval-episodes", ev, "expected a positive number of episodes");
            if (t < 1) throw new ArgumentOutOfRangeException("--threads", t, "expected at least 1");
            CpuThreads.Count = t;
            string dir = p.GetValue(outDir)!;
            Directory.CreateDirectory(dir);
            double w = p.GetValue(replyWeight);
            if (!double.IsFinite(w) || w < 0) throw new ArgumentOutOfRangeException("--reply-weight", w, "expected a finite weight >= 0");
            string rewardName = p.GetValue(reward)!;
            Func<int, IRewardModel> rf = turns => new TaskReward(turns);
            if (rewardName == "reply-model")
            {
                var reply = SellerRun.ReplyModel(p.GetValue(bert), null, Console.WriteLine);
                reply.ReplyWeight = w;
                rf = _ => reply;
            }
            var results = new List<(string Method, ulong Seed, EvalReport Final, IReadOnlyList<CurvePoint> Curve, double Seconds)>();
            foreach (var m in ms)
                for (ulong s = 1; s <= (ulong)ns; s++)
                {
                    Console.WriteLine($"== {m}, seed {s}: {n} real dialogs");
                    if (m == "bc")
                    {
                        var clock = System.Diagnostics.Stopwatch.StartNew();
                        var bc = BehaviorCloning.Run(new BcOptions { Seed = s, Dialogs = n, EvalEpisodes = ev }, null);
                        results.Add((m, s, bc.Learner, [new CurvePoint(n, 0, bc.Learner.Success.Mean, bc.Learner.Return.Mean, bc.Learner.Turns.Mean, clock.Elapsed.TotalSeconds)], clock.Elapsed.TotalSeconds));
                        continue;
                    }
                    // a fresh table per run: each run fits its own normaliser from its own first dialogs
                    var table = p.GetValue(embedder) == "hashed" ? new UtteranceTable(new HashedUtteranceEmbedder(128)) : SellerRun.Table(p.GetValue(bert), Pooling.Cls, Console.WriteLine);
                    var o = OptionOverrides.Apply(SellerOptions.For(SellerMethods.Parse(m), n), p.GetValue(set) ?? []);
                    var spec = new SellerRunSpec(o, s, Path.Combine(dir, $"{m}-seed{s}"), p.GetValue(bert), Pooling.Cls, rf, rewardName, null, ev);
                    var r = SellerRun.Run(spec, table, Console.WriteLine);
                    results.Add((m, s, r.Final, r.Agent.Curve, r.Seconds));
                }
            var expert = Evaluation.Run(new RulePolicy(), ev, 0xF17A1UL);
            var random = Evaluation.Run(new RandomPolicy(), ev, 0xF17A1UL);
            string md = Markdown(results, ms, n, ns, expert, random);
            AtomicFile.WriteAllText(Path.Combine(dir, "compare.md"), md);
            Console.WriteLine(md);
            var series = ms.Where(m => m != "bc").Select(m => (m, (IReadOnlyList<CurvePoint>)MeanCurve(results.Where(r => r.Method == m).Select(r => r.Curve).ToList()))).ToList();
            Plots.Learning(Path.Combine(dir, "compare_success.png"), $"Greedy success against real dialogs (mean of {ns} seeds)", "success rate",
                series.Select(x => (x.m, x.Item2.Select(c => ((double)c.Dialogs, c.Success)).ToArray())).ToList(),
                [("expert", expert.Success.Mean), ("random", random.Success.Mean), .. ms.Where(m => m == "bc").Select(m => ("bc", results.Where(r => r.Method == m).Average(r => r.Final.Success.Mean)))]);
            Console.WriteLine($"wrote compare.md and compare_success.png in {dir}");
            return 0;
        });
        return cmd;
    }

    static List<CurvePoint> MeanCurve(List<IReadOnlyList<CurvePoint>> curves)
    {
        int len = curves.Min(c => c.Count);
        return Enumerable.Range(0, len).Select(i => new CurvePoint(curves[0][i].Dialogs, (long)curves.Average(c => c[i].Turns),
            curves.Average(c => c[i].Success), curves.Average(c => c[i].Return), curves.Average(c => c[i].AvgTurns), curves.Average(c => c[i].Seconds))).ToList();
    }

    /// <summary>The first evaluation at which greedy success reached the level (null: never within the budget).</summary>
    public static int? DialogsToReach(IReadOnlyList<CurvePoint> curve, double level) => curve.FirstOrDefault(c => c.Success >= level)?.Dialogs;

    static string Markdown(List<(string Method, ulong Seed, EvalReport Final, IReadOnlyList<CurvePoint> Curve, double Seconds)> results, string[] ms, int n, int ns, EvalReport expert, EvalReport random)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Methods on the same budget of {n} real dialogs, {ns} seeds; final greedy success over {results[0].Final.Episodes} evaluation dialogs per seed.");
        sb.AppendLine();
        sb.AppendLine("| method | success (mean ± 95% CI over seeds) | per seed | dialogs to 80% (per seed) | return | turns | wall s (mean) |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var m in ms)
        {
            var rs = results.Where(r => r.Method == m).ToList();
            var ci = Evaluation.MeanCi(rs.Select(r => r.Final.Success.Mean).ToList());
            string reach = m == "bc" ? "n/a" : string.Join(" / ", rs.Select(r => DialogsToReach(r.Curve, 0.8)?.ToString(CultureInfo.InvariantCulture) ?? $">{n}"));
            sb.AppendLine(FormattableString.Invariant($"| {m} | {ci.Mean:P1} [{Math.Max(0, ci.Low):P1}, {Math.Min(1, ci.High):P1}] | {string.Join(" / ", rs.Select(r => r.Final.Success.Mean.ToString("P0", CultureInfo.InvariantCulture)))} | {reach} | {rs.Average(r => r.Final.Return.Mean):F1} | {rs.Average(r => r.Final.Turns.Mean):F1} | {rs.Average(r => r.Seconds):F0} |"));
        }
        sb.AppendLine(FormattableString.Invariant($"| rule-based expert | {expert.Success.Mean:P1} [{expert.Success.Low:P1}, {expert.Success.High:P1}] | | | {expert.Return.Mean:F1} | {expert.Turns.Mean:F1} | |"));
        sb.AppendLine(FormattableString.Invariant($"| random | {random.Success.Mean:P1} [{random.Success.Low:P1}, {random.Success.High:P1}] | | | {random.Return.Mean:F1} | {random.Turns.Mean:F1} | |"));
        return sb.ToString();
    }
}
