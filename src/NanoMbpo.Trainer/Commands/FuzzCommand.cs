// `nanombpo fuzz --target NAME|all --seconds S [--seed N] [--out DIR]`: long fuzz campaigns over the parsers
// registered in Fuzz/FuzzTargets.cs (mutated valid files and random bytes). Prints per target
// "fuzz NAME: N inputs, F failures"; each failing input is saved under --out for a regression test; exit code 1
// when anything failed. Tested by tests/NanoMbpo.Tests/Reliability/FuzzTests.cs.
using System.CommandLine;
using NanoMbpo.IO;
using NanoMbpo.Trainer.Fuzz;

namespace NanoMbpo.Trainer.Commands;

internal static class FuzzCommand
{
    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = $"Parser to fuzz: {string.Join(", ", FuzzTargets.Names)} or all.", DefaultValueFactory = _ => "all" };
        var seconds = new Option<double>("--seconds") { Description = "Seconds per target.", DefaultValueFactory = _ => 10.0 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the input generator.", DefaultValueFactory = _ => 1UL };
        var outDir = new Option<string>("--out") { Description = "Folder for failing inputs.", DefaultValueFactory = _ => "fuzz-failures" };
        var cmd = new Command("fuzz", "Fuzz the file, network-answer and argument parsers; report inputs tried and failures.") { target, seconds, seed, outDir };
        cmd.SetAction(p =>
        {
            string name = p.GetValue(target)!;
            var targets = name == "all" ? FuzzTargets.All : [FuzzTargets.Get(name)];
            int failed = 0;
            foreach (var t in targets)
            {
                var (tried, failures) = FuzzRunner.Campaign(t, p.GetValue(seconds), p.GetValue(seed));
                Console.WriteLine($"fuzz {t.Name}: {tried} inputs, {failures.Count} failures");
                foreach (var (input, why) in failures)
                {
                    string file = Path.Combine(p.GetValue(outDir)!, $"{t.Name}-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16]}.bin");
                    AtomicFile.WriteAllBytes(file, input);
                    Console.WriteLine($"  {why} (input saved to {file})");
                }
                failed += failures.Count;
            }
            return failed > 0 ? 1 : 0;
        });
        return cmd;
    }
}
