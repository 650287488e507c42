// `nanombpo corpus --dialogs N --seed S --out FILE [--epsilon E] [--max-seq-len L] [--goals PIZZA_FILE]`: plays the
// rule expert with exploration noise against the KinPizza simulator for N seeded dialogs and writes them as a
// Taskmaster-1 JSON file (atomically, streamed). Progress (dialogs/s) goes to stderr for large N; the last stdout
// line is the summary: dialogs, success rate, avg turns, tuples (history <= L), file.
// Tested by tests/NanoMbpo.Tests/Dialog/CorpusTests.cs.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Corpus;

namespace NanoMbpo.Trainer.Commands;

internal static class CorpusCommand
{
    public static Command Create()
    {
        var dialogs = new Option<int>("--dialogs") { Description = "Number of dialogs to generate (>= 1).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Base seed; dialog i uses a seed derived from it.", DefaultValueFactory = _ => 1UL };
        var output = new Option<string>("--out") { Description = "Output file (Taskmaster-1 JSON array).", Required = true };
        var epsilon = new Option<double>("--epsilon") { Description = "Exploration noise: chance of a random seller action per turn.", DefaultValueFactory = _ => 0.1 };
        var maxSeqLen = new Option<int>("--max-seq-len") { Description = "History length for the tuple count in the summary.", DefaultValueFactory = _ => 10 };
        var goals = new Option<string?>("--goals") { Description = "PIZZA-format file whose orders become the customers' goals and opening lines." };
        var cmd = new Command("corpus", "Generate a Taskmaster-1 format corpus of expert dialogs with exploration noise.")
            { dialogs, seed, output, epsilon, maxSeqLen, goals };
        cmd.SetAction(parse =>
        {
            string? path = parse.GetValue(output);
            try
            {
                int n = parse.GetValue(dialogs);
                if (n < 1) throw new ArgumentException($"--dialogs: expected a positive number of dialogs, got {n}");
                double eps = parse.GetValue(epsilon);
                if (!(eps >= 0 && eps <= 1)) throw new ArgumentException($"--epsilon: expected a probability in [0, 1], got {eps.ToString(CultureInfo.InvariantCulture)}");
                int l = parse.GetValue(maxSeqLen);
                if (l < 0) throw new ArgumentException($"--max-seq-len: expected a non-negative number of utterances, got {l}");
                if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("--out: expected a file path");
                if (Directory.Exists(path)) throw new ArgumentException($"--out: '{path}' is a directory, expected a file path");
                var records = parse.GetValue(goals) is { } g ? PizzaFile.Read(g) : null;
                Console.WriteLine(Run(n, parse.GetValue(seed), path, eps, l, records));
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: --out '{path}': cannot write the corpus: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }

    /// <summary>Generates and writes the corpus; returns the summary line.</summary>
    public static string Run(int n, ulong seed, string path, double epsilon, int maxSeqLen, IReadOnlyList<PizzaRecord>? goals)
    {
        var gen = new CorpusGenerator(epsilon, goals: goals);
        var stats = new CorpusStats();
        long tuples = 0;
        var clock = Stopwatch.StartNew();
        double lastReport = 0;
        IEnumerable<TaskmasterDialog> Tracked()
        {
            foreach (var d in gen.Generate(n, seed))
            {
                stats.Add(d.Outcome!);
                tuples += DialogTupleExtractor.Extract(d, maxSeqLen).Count;
                double t = clock.Elapsed.TotalSeconds;
                if (n >= 1000 && (t - lastReport >= 2.0 || stats.Dialogs == n))
                {
                    lastReport = t;
                    Console.Error.WriteLine(FormattableString.Invariant(
                        $"corpus: {stats.Dialogs}/{n} dialogs, {stats.Dialogs / Math.Max(t, 1e-9):F0} dialogs/s, success {100 * stats.SuccessRate:F1}%"));
                }
                yield return d;
            }
        }
        TaskmasterWriter.WriteFile(path, Tracked());
        double secs = clock.Elapsed.TotalSeconds;
        return FormattableString.Invariant(
            $"corpus: {stats.Dialogs} dialogs ({gen.PolicyName}), success rate {100 * stats.SuccessRate:F2}%, avg turns {stats.AvgTurns:F2}, hang-ups {stats.HangUps}, {tuples} tuples (history <= {maxSeqLen}), {stats.Dialogs / Math.Max(secs, 1e-9):F0} dialogs/s, file {path}");
    }
}
