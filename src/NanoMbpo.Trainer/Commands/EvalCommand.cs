// `nanombpo eval --policy random|rule|RUN_DIR --episodes N --seed S [--goals PIZZA_FILE] [--epsilon E] [--json]`: runs a
// seller policy against the KinPizza simulator and prints success rate, turns, return, slot F1 and hang-up rate
// with 95% confidence intervals; --json prints exactly one JSON object. Tested by tests/NanoMbpo.Tests/Dialog/CommandTests.cs.
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
        var cmd = new Command("eval", "Evaluate a seller policy against the KinPizza customer simulator.") { policy, episodes, seed, goals, epsilon, json };
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
