// `nanombpo compare --methods mbpo,sac,dyna,dqn,reinforce,mpc,mpc-rs,bc --seeds 3 --dialogs N`: trains every method on the same
// budget of real dialogs with the same harness, reward and evaluation, per seed, then writes one markdown
// table (final greedy success with a 95% interval over seeds, pooled Wilson interval over all evaluation
// dialogs, the real dialogs each seed needed to first reach 80% success, return, wall time) and one plot
// of success against real dialogs (mean over seeds), all methods on the same axes, expert and random as
// lines. bc is behaviour cloning of the expert on N expert dialogs (its dialogs are the expert's, counted
// as its budget). `--runs DIR ...` trains nothing: it reads finished `train` runs (their summary.json), which
// may have different budgets or have run as separate processes on separate cores, and writes the same table
// and plot, plus each seed's ratio of MBPO's dialogs to 80 % over model-free SAC's (the paper's claim: ≤ 1/3).
// Tested by tests/NanoMbpo.Tests/Agent/TrainCommandTests.cs.
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
        var runs = new Option<string[]>("--runs") { Description = "Train nothing: compare these finished train run directories (summary.json each; any budgets, e.g. model-free SAC run longer to find its dialogs to 80 %).", AllowMultipleArgumentsPerToken = true };
        var cmd = new Command("compare", "Train every method on the same budget of real dialogs and compare them (table and plot).")
        {
            methods, seeds, dialogs, evalEpisodes, threads, outDir, bert, embedder, replyWeight, reward, set, runs,
        };
        cmd.SetAction(p =>
        {
            if (p.GetValue(runs) is { Length: > 0 } finished)
            {
                Write(p.GetValue(outDir)!, finished.Select(ReadRun).ToList(), p.GetValue(evalEpisodes));
                return 0;
            }
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
            Write(dir, results.Select(r => new Result(r.Method, r.Seed, n, r.Final, r.Curve, r.Seconds)).ToList(), ev);
            return 0;
        });
        return cmd;
    }

    sealed record Result(string Method, ulong Seed, int Dialogs, EvalReport Final, IReadOnlyList<CurvePoint> Curve, double Seconds);

    /// <summary>compare.md and compare_success.png for the results, with the expert and random on the same evaluation.</summary>
    static void Write(string dir, List<Result> results, int ev)
    {
        Directory.CreateDirectory(dir);
        var ms = results.Select(r => r.Method).Distinct().ToArray();
        var expert = Evaluation.Run(new RulePolicy(), ev, 0xF17A1UL);
        var random = Evaluation.Run(new RandomPolicy(), ev, 0xF17A1UL);
        string md = Markdown(results, ms, expert, random);
        AtomicFile.WriteAllText(Path.Combine(dir, "compare.md"), md);
        Console.WriteLine(md);
        int ns = results.Select(r => r.Seed).Distinct().Count();
        var series = ms.Where(m => m != "bc").Select(m => (m, (IReadOnlyList<CurvePoint>)MeanCurve(results.Where(r => r.Method == m).Select(r => r.Curve).ToList()))).ToList();
        Plots.Learning(Path.Combine(dir, "compare_success.png"), $"Greedy success against real dialogs (mean of {ns} seeds)", "success rate",
            series.Select(x => (x.m, x.Item2.Select(c => ((double)c.Dialogs, c.Success)).ToArray())).ToList(),
            [("expert", expert.Success.Mean), ("random", random.Success.Mean), .. ms.Where(m => m == "bc").Select(m => ("bc", results.Where(r => r.Method == m).Average(r => r.Final.Success.Mean)))]);
        Console.WriteLine($"wrote compare.md and compare_success.png in {dir}");
    }

    /// <summary>A finished train run: its summary.json (method, seed, budget, curve, the learner's final evaluation).</summary>
    static Result ReadRun(string runDir)
    {
        string path = Path.Combine(runDir, "summary.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"--runs: '{runDir}' has no summary.json (not a finished train run)", path);
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            string method = root.GetProperty("job").GetString()!;
            var curve = root.GetProperty("curve").EnumerateArray().Select(c => new CurvePoint(c.GetProperty("Dialogs").GetInt32(), c.GetProperty("Turns").GetInt64(),
                c.GetProperty("Success").GetDouble(), c.GetProperty("Return").GetDouble(), c.GetProperty("AvgTurns").GetDouble(), c.GetProperty("Seconds").GetDouble())).ToList();
            var f = root.GetProperty("policies")[0];
            Estimate E(string mean, string? low = null, string? high = null)
            {
                double m = f.GetProperty(mean).GetDouble();
                return new Estimate(m, low is null ? m : f.GetProperty(low).GetDouble(), high is null ? m : f.GetProperty(high).GetDouble());
            }
            var final = new EvalReport(f.GetProperty("policy").GetString()!, f.GetProperty("episodes").GetInt32(), E("success_rate", "success_ci_low", "success_ci_high"),
                E("avg_turns"), E("avg_return"), E("slot_f1"), E("hangup_rate"));
            return new Result(method, root.GetProperty("seed").GetUInt64(), root.GetProperty("dialogs").GetInt32(), final, curve, root.GetProperty("wall_seconds").GetDouble());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            throw new FormatException($"--runs: '{path}' is not a train summary (expected job, seed, dialogs, curve, policies[0], wall_seconds): {e.Message}", e);
        }
    }

    static List<CurvePoint> MeanCurve(List<IReadOnlyList<CurvePoint>> curves)
    {
        int len = curves.Min(c => c.Count);
        return Enumerable.Range(0, len).Select(i => new CurvePoint(curves[0][i].Dialogs, (long)curves.Average(c => c[i].Turns),
            curves.Average(c => c[i].Success), curves.Average(c => c[i].Return), curves.Average(c => c[i].AvgTurns), curves.Average(c => c[i].Seconds))).ToList();
    }

    /// <summary>The first evaluation at which greedy success reached the level (null: never within the budget).</summary>
    public static int? DialogsToReach(IReadOnlyList<CurvePoint> curve, double level) => curve.FirstOrDefault(c => c.Success >= level)?.Dialogs;

    static string Markdown(List<Result> results, string[] ms, EvalReport expert, EvalReport random)
    {
        var sb = new StringBuilder();
        var budgets = ms.Select(m => results.Where(r => r.Method == m).Max(r => r.Dialogs)).ToArray();
        int ns = results.Select(r => r.Seed).Distinct().Count();
        string budget = budgets.Distinct().Count() == 1 ? FormattableString.Invariant($"the same budget of {budgets[0]} real dialogs")
            : "budgets of " + string.Join(", ", ms.Select((m, i) => FormattableString.Invariant($"{m} {budgets[i]}"))) + " real dialogs";
        sb.AppendLine(CultureInfo.InvariantCulture, $"Methods on {budget}, {ns} seeds; final greedy success over {results[0].Final.Episodes} evaluation dialogs per seed.");
        sb.AppendLine();
        sb.AppendLine("| method | success (mean ± 95% CI over seeds) | per seed | dialogs to 80% (per seed) | return | turns | wall s (mean) |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var m in ms)
        {
            var rs = results.Where(r => r.Method == m).ToList();
            var ci = Evaluation.MeanCi(rs.Select(r => r.Final.Success.Mean).ToList());
            string reach = m == "bc" ? "n/a" : string.Join(" / ", rs.Select(r => DialogsToReach(r.Curve, 0.8)?.ToString(CultureInfo.InvariantCulture) ?? $">{r.Dialogs}"));
            sb.AppendLine(FormattableString.Invariant($"| {m} | {ci.Mean:P1} [{Math.Max(0, ci.Low):P1}, {Math.Min(1, ci.High):P1}] | {string.Join(" / ", rs.Select(r => r.Final.Success.Mean.ToString("P0", CultureInfo.InvariantCulture)))} | {reach} | {rs.Average(r => r.Final.Return.Mean):F1} | {rs.Average(r => r.Final.Turns.Mean):F1} | {rs.Average(r => r.Seconds):F0} |"));
        }
        sb.AppendLine(FormattableString.Invariant($"| rule-based expert | {expert.Success.Mean:P1} [{expert.Success.Low:P1}, {expert.Success.High:P1}] | | | {expert.Return.Mean:F1} | {expert.Turns.Mean:F1} | |"));
        sb.AppendLine(FormattableString.Invariant($"| random | {random.Success.Mean:P1} [{random.Success.Low:P1}, {random.Success.High:P1}] | | | {random.Return.Mean:F1} | {random.Turns.Mean:F1} | |"));
        if (ms.Contains("mbpo") && ms.Contains("sac")) sb.Append(SampleEfficiency(results));
        return sb.ToString();
    }

    /// <summary>Per seed run by both: MBPO's real dialogs to 80 % over model-free SAC's (≤ 1/3 is the paper's claim). A
    /// seed where SAC never got there within its budget gives only a bound.</summary>
    static string SampleEfficiency(List<Result> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine();
        sb.AppendLine("Sample efficiency (the paper's claim: MBPO reaches 80 % with ≤ 1/3 of the real dialogs model-free SAC needs):");
        sb.AppendLine();
        sb.AppendLine("| seed | mbpo: dialogs to 80% | sac: dialogs to 80% | ratio |");
        sb.AppendLine("| --- | --- | --- | --- |");
        var ratios = new List<double>();
        foreach (var seed in results.Select(r => r.Seed).Distinct().Order())
        {
            var mb = results.FirstOrDefault(r => r.Method == "mbpo" && r.Seed == seed);
            var sac = results.FirstOrDefault(r => r.Method == "sac" && r.Seed == seed);
            if (mb is null || sac is null) continue;
            int? a = DialogsToReach(mb.Curve, 0.8), b = DialogsToReach(sac.Curve, 0.8);
            string ratio = a is null ? "n/a (mbpo never reached 80 %)" : b is null ? FormattableString.Invariant($"< {(double)a / sac.Dialogs:F2}") : FormattableString.Invariant($"{(double)a / b:F2}");
            if (a is not null && b is not null) ratios.Add((double)a / b.Value);
            sb.AppendLine(FormattableString.Invariant($"| {seed} | {a?.ToString(CultureInfo.InvariantCulture) ?? $">{mb.Dialogs}"} | {b?.ToString(CultureInfo.InvariantCulture) ?? $">{sac.Dialogs}"} | {ratio} |"));
        }
        if (ratios.Count > 0)
            sb.AppendLine(FormattableString.Invariant($"\nMean ratio over the {ratios.Count} seed(s) where both reached 80 %: {ratios.Average():F2} ({(ratios.All(r => r <= 1.0 / 3) ? "every seed ≤ 1/3" : $"{ratios.Count(r => r <= 1.0 / 3)} of {ratios.Count} seeds ≤ 1/3")})."));
        return sb.ToString();
    }
}
