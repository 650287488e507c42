// `nanombpo track --input PIZZA_FILE [--catalogs DIR] [--errors N]`: runs the KinPizza state tracker on every
// SRC of a PIZZA JSON Lines file and scores it against the EXR parses (order-insensitive exact match).
// Last line: `exact match X/Y = Z%`. Tested by tests/NanoMbpo.Tests/Dialog/CommandTests.cs.
using System.CommandLine;
using System.Globalization;
using NanoMbpo.Dialog;

namespace NanoMbpo.Trainer.Commands;

internal static class TrackCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "PIZZA-format JSON Lines file (keys <split>.SRC, <split>.EXR).", Required = true };
        var catalogs = new Option<string?>("--catalogs") { Description = "Catalog folder in the PIZZA format (default: the embedded KinPizza catalogs)." };
        var errors = new Option<int>("--errors") { Description = "Print up to N mismatches.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("track", "Run the state tracker on every SRC of a PIZZA file and report the exact-match rate.") { input, catalogs, errors };
        cmd.SetAction(parse =>
        {
            try
            {
                var menu = parse.GetValue(catalogs) is { } dir ? Menu.LoadCatalogDirectory(dir) : Menu.Default;
                var (hit, total, misses) = Run(PizzaFile.Read(parse.GetValue(input)!), menu);
                foreach (var m in misses.Take(parse.GetValue(errors))) Console.WriteLine(m);
                Console.WriteLine(FormattableString.Invariant($"exact match {hit}/{total} = {100.0 * hit / Math.Max(1, total):F2}%"));
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }

    public static (int Hit, int Total, List<string> Misses) Run(IReadOnlyList<PizzaRecord> records, Menu menu)
    {
        var parser = new OrderParser(menu);
        int hit = 0;
        var misses = new List<string>();
        foreach (var r in records)
        {
            var got = parser.Parse(r.Src);
            if (got.ExactMatch(r.Order)) hit++;
            else misses.Add(string.Create(CultureInfo.InvariantCulture, $"line {r.Line}: {r.Src}\n  want {r.Order.ToExr()}\n  got  {got.ToExr()}"));
        }
        return (hit, records.Count, misses);
    }
}
