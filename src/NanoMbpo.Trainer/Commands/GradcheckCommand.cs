// `nanombpo gradcheck [--filter S]`: runs every gradient-check case in the catalog (ops and nn
// modules, float64 central differences, plus the accumulation check: a case whose backward overwrites a
// pre-filled gradient fails) and the optimizer closed-form rows, printing one aligned
// row per case (name, shapes, max absolute and relative error, worst tolerance ratio, pass/fail;
// the relative error floors |numeric| at 1e-8, so it looks large where a gradient is ~0) and finally the
// line "N passed, M failed"; the exit code is 1 when M > 0. Tested by
// tests/NanoMbpo.Tests/NN/GradcheckCommandTests.cs through Run().
using System.CommandLine;
using System.Globalization;
using NanoMbpo.Optim;

namespace NanoMbpo.Trainer.Commands;

public static class GradcheckCommand
{
    public static Command Create()
    {
        var filter = new Option<string?>("--filter") { Description = "Only run cases whose name contains this text." };
        var cmd = new Command("gradcheck", "Check every op's and module's backward against float64 finite differences, and the Adam step against its closed form.");
        cmd.Options.Add(filter);
        cmd.SetAction(r =>
        {
            var (passed, failed) = Run(Console.Out, r.GetValue(filter));
            if (passed + failed == 0)
            {
                Console.Error.WriteLine($"gradcheck: no case matches --filter '{r.GetValue(filter)}'.");
                return 2;
            }
            return failed > 0 ? 1 : 0;
        });
        return cmd;
    }

    /// <summary>Runs the checks, writes the table to <paramref name="output"/> and returns the counts.</summary>
    /// <param name="extraCases">Cases to run besides the catalog (tests use this to prove a wrong backward fails).</param>
    public static (int Passed, int Failed) Run(TextWriter output, string? filter = null, IEnumerable<GradCase>? extraCases = null)
    {
        var inv = CultureInfo.InvariantCulture;
        bool Wanted(string name) => filter is null || name.Contains(filter, StringComparison.OrdinalIgnoreCase);
        var cases = GradCatalog.All().Concat(extraCases ?? []).Where(c => Wanted(c.Name)).ToList();
        var optimRows = OptimCheck.RunAll().Where(r => Wanted(r.Name)).ToList();
        int nameW = Math.Max(24, cases.Select(c => c.Name).Concat(optimRows.Select(r => r.Name)).Max(n => (int?)n.Length) ?? 0) + 2;
        int shapeW = Math.Max(20, cases.Select(c => c.Shapes.Length).DefaultIfEmpty(0).Max() + 2);
        output.WriteLine($"{"case".PadRight(nameW)}{"shapes".PadRight(shapeW)}{"elements",9}  {"max abs err",11}  {"max rel err",11}  {"tol ratio",9}  result");
        int passed = 0, failed = 0;
        void Row(GradCheckResult r)
        {
            if (r.Passed) passed++; else failed++;
            string res = r.Passed ? "pass" : "FAIL" + (r.Error is null ? "" : ": " + r.Error);
            output.WriteLine(string.Create(inv,
                $"{r.Name.PadRight(nameW)}{r.Shapes.PadRight(shapeW)}{r.Elements,9}  {r.MaxAbsError,11:0.00E+00}  {r.MaxRelError,11:0.00E+00}  {r.WorstRatio,9:F3}  {res}"));
        }
        foreach (var c in cases)
        {
            var r = GradCheck.Run(c);
            var acc = GradCheck.RunAccumulation(c);
            Row(acc.Passed || r.Error is not null ? r
                : r with { Error = acc.Error ?? string.Create(inv, $"the backward overwrites instead of accumulating (accumulation ratio {acc.WorstRatio:G3})") });
        }
        foreach (var r in optimRows) Row(r);
        output.WriteLine($"{passed} passed, {failed} failed");
        return (passed, failed);
    }
}
