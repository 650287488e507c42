// `nanombpo eval --policy random|rule|RUN_DIR --episodes N --seed S [--goals PIZZA_FILE] [--epsilon E] [--json]`: runs a
// seller policy against the KinPizza simulator and prints success rate, turns, return, slot F1 and hang-up rate
// with 95% confidence intervals; --json prints exactly one JSON object; --show N prints the first N dialogs
// (the same episodes, seeds and actions as the scored ones) with their outcome. Tested by tests/NanoMbpo.Tests/Dialog/CommandTests.cs.
using System.CommandLine;
using System.Text.Json;
using NanoMbpo.Dialog;

namespace NanoMbpo.Trainer.Commands;

internal static class EvalCommand
{
    public static Command Create()
    {
        var policy = new Option<string>("--policy") { Description = "Seller policy: random, rule, or a train run directory (its greedy latent policy).", DefaultValueFactory = _ => "rule" };
        var episodes = new Option<int>("--episodes") { Description = "Number of episodes.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Base seed; episode i uses a seed derived from it.", DefaultValueFactory = _ => 1UL };
        var goals = new Option<string?>("--goals") { Description = "PIZZA-format file whose orders become the customers' goals and opening lines." };
        var epsilon = new Option<double>("--epsilon") { Description = "Exploration noise for the rule policy.", DefaultValueFactory = _ => 0.0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var show = new Option<int>("--show") { Description = "Print the first N dialogs as transcripts (to stderr with --json).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("eval", "Evaluate a seller policy against the KinPizza customer simulator.") { policy, episodes, seed, goals, epsilon, json, show };
        cmd.SetAction(parse =>
        {
            try
            {
                string name = parse.GetValue(policy)!;
                IDialogPolicy p = name switch
                {
                    "random" => new RandomPolicy(),
                    "rule" => new RulePolicy(parse.GetValue(epsilon)),
                    _ when Directory.Exists(name) => SellerRun.LoadPolicy(name, Console.Error.WriteLine),
                    _ => throw new ArgumentException($"--policy: expected 'random', 'rule' or a train run directory, got '{name}'"),
                };
                int n = parse.GetValue(episodes);
                if (n < 1) throw new ArgumentException($"--episodes: expected a positive number, got {n}");
                var records = parse.GetValue(goals) is { } g ? PizzaFile.Read(g) : null;
                int ns = parse.GetValue(show);
                if (ns < 0) throw new ArgumentException($"--show: expected zero or more dialogs, got {ns}");
                if (ns > 0) Show(p, Math.Min(ns, n), parse.GetValue(seed), records, parse.GetValue(json) ? Console.Error : Console.Out);
                var r = Evaluation.Run(p, n, parse.GetValue(seed), records);
                if (parse.GetValue(json)) Console.WriteLine(ToJson(r));
                else Print(r);
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }

    public static string ToJson(EvalReport r) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["policy"] = r.Policy, ["episodes"] = r.Episodes,
        ["success_rate"] = r.Success.Mean, ["success_ci_low"] = r.Success.Low, ["success_ci_high"] = r.Success.High,
        ["avg_turns"] = r.Turns.Mean, ["avg_turns_ci_low"] = r.Turns.Low, ["avg_turns_ci_high"] = r.Turns.High,
        ["avg_return"] = r.Return.Mean, ["avg_return_ci_low"] = r.Return.Low, ["avg_return_ci_high"] = r.Return.High,
        ["slot_f1"] = r.SlotF1.Mean, ["slot_f1_ci_low"] = r.SlotF1.Low, ["slot_f1_ci_high"] = r.SlotF1.High,
        ["hangup_rate"] = r.HangUp.Mean, ["hangup_ci_low"] = r.HangUp.Low, ["hangup_ci_high"] = r.HangUp.High,
    });

    /// <summary>Replays episodes 0..n-1 exactly as Evaluation.Run plays them and prints each transcript.</summary>
    static void Show(IDialogPolicy p, int n, ulong seed, IReadOnlyList<PizzaRecord>? records, TextWriter w)
    {
        var env = new KinPizzaEnv(goals: records);
        for (int e = 0; e < n; e++)
        {
            ulong epSeed = DialogRng.Derive(seed, (ulong)e);
            env.Reset(epSeed);
            var prng = new DialogRng(epSeed ^ 0x5EED5EED5EED5EEDUL);
            StepResult r;
            do r = env.Step(p.Act(env, prng)); while (!r.Done);
            w.WriteLine($"--- dialog {e}: {(r.Info.Success ? "success" : r.Info.HungUp ? "hang-up" : "failure")} after {r.Info.Turns} seller turns");
            foreach (var u in env.History) w.WriteLine($"{(u.Speaker == Speaker.Seller ? "seller  " : "customer")}: {u.Text}");
        }
    }

    static void Print(EvalReport r)
    {
        Console.WriteLine($"policy {r.Policy}, {r.Episodes} episodes (95% confidence intervals)");
        Line("success rate", r.Success, percent: true);
        Line("avg turns", r.Turns, percent: false);
        Line("avg return", r.Return, percent: false);
        Line("slot F1", r.SlotF1, percent: false);
        Line("hang-up rate", r.HangUp, percent: true);
    }

    static void Line(string name, Estimate e, bool percent) => Console.WriteLine(percent
        ? FormattableString.Invariant($"{name,-14} {100 * e.Mean,8:F2}%  [{100 * e.Low:F2}%, {100 * e.High:F2}%]")
        : FormattableString.Invariant($"{name,-14} {e.Mean,9:F3}  [{e.Low:F3}, {e.High:F3}]"));
}
