// `nanombpo rl --algo sac|sac-discrete|mbpo|dqn|reinforce --env pendulum|cartpole|cartpole-cont
//  --steps N --seed S --out DIR [--resume] [--threads T]`: trains one agent (src/NanoMbpo.Rl) with
// progress (rate, ETA), DIR/metrics.csv, DIR/learning_curve.png and DIR/checkpoint/; `--resume`
// continues the run in DIR exactly. A NaN loss stops the run naming the step and network (exit 3).
// The last line is `eval return MEAN ± STD over E episodes`. Tests: tests/NanoMbpo.Rl.Tests/ResumeTests.cs
// exercise the same RunLoop; the command itself is run by hand for bench/RESULTS.md.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NanoMbpo.Cpu;
using NanoMbpo.Rl;

namespace NanoMbpo.Trainer.Commands;

internal static class RlCommand
{
    public static Command Create()
    {
        var algo = new Option<string>("--algo") { Description = "sac, sac-discrete, mbpo, dqn or reinforce", DefaultValueFactory = _ => "sac" };
        var env = new Option<string>("--env") { Description = "pendulum, cartpole or cartpole-cont", DefaultValueFactory = _ => "pendulum" };
        var steps = new Option<long>("--steps") { Description = "environment steps", DefaultValueFactory = _ => 20_000 };
        var seed = new Option<ulong>("--seed") { Description = "run seed (networks, environment, sampling)", DefaultValueFactory = _ => 1UL };
        var outDir = new Option<string>("--out") { Description = "run folder (metrics.csv, learning_curve.png, checkpoint/)", DefaultValueFactory = _ => "runs/rl" };
        var resume = new Option<string?>("--resume") { Description = "continue the run whose checkpoint is in this folder (it becomes --out)" };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var evalEvery = new Option<int>("--eval-every") { Description = "steps between evaluations", DefaultValueFactory = _ => 5000 };
        var evalEpisodes = new Option<int>("--eval-episodes") { Description = "deterministic episodes per evaluation", DefaultValueFactory = _ => 10 };
        var logEvery = new Option<int>("--log-every") { Description = "steps between CSV rows", DefaultValueFactory = _ => 1000 };
        var ckptEvery = new Option<int>("--checkpoint-every") { Description = "steps between checkpoints", DefaultValueFactory = _ => 5000 };
        var g = new Option<int?>("--updates-per-step") { Description = "mbpo: SAC gradient steps per real step (G; default 10)" };
        var k = new Option<int?>("--rollout-length") { Description = "mbpo: fixed model rollout length k (1 = Dyna); default the 1→5 schedule" };
        var cmd = new Command("rl", "Train an RL agent on a classic-control environment.") { algo, env, steps, seed, outDir, resume, threads, evalEvery, evalEpisodes, logEvery, ckptEvery, g, k };
        cmd.SetAction(r =>
        {
            try
            {
                int t = r.GetValue(threads);
                if (t < 1) throw new ArgumentException($"--threads must be >= 1, got {t}.");
                CpuThreads.Count = t;
                long n = r.GetValue(steps);
                if (n < 1) throw new ArgumentException($"--steps must be >= 1, got {n}.");
                string? resumeDir = r.GetValue(resume);
                string dir = resumeDir ?? r.GetValue(outDir)!;
                var mo = new MbpoOptions();
                if (r.GetValue(g) is int gv) mo = mo with { UpdatesPerStep = gv };
                if (r.GetValue(k) is int kv) mo = mo with { MinRolloutLength = kv, MaxRolloutLength = kv };
                var agent = Algorithms.Make(r.GetValue(algo)!, r.GetValue(env)!, r.GetValue(seed), mo);
                var o = new RunOptions
                {
                    Steps = n, OutDir = dir, EvalEvery = r.GetValue(evalEvery), EvalEpisodes = r.GetValue(evalEpisodes),
                    LogEvery = Math.Max(1, r.GetValue(logEvery)), CheckpointEvery = r.GetValue(ckptEvery),
                };
                Console.WriteLine($"{agent.Algo} on {agent.Env.Name}, seed {agent.Seed}, {n} steps, threads {t}, out {dir}");
                var sw = Stopwatch.StartNew();
                EvalResult res;
                try { res = RunLoop.Run(agent, o, Console.Out, resume: resumeDir is not null); }
                catch (NonFiniteException e)
                {
                    Console.Error.WriteLine($"error: {e.Message} The run stopped; the last checkpoint is in {Path.Combine(dir, RunLoop.CheckpointDir)}.");
                    return 3;
                }
                // CPU seconds of this process: on a shared machine, closer to the unloaded wall time than wall time is.
                Console.WriteLine($"wall time {sw.Elapsed.TotalSeconds:F1} s, process CPU time {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:F1} s");
                PlotCurve(dir, agent);
                Console.WriteLine($"eval return {res.Mean:F1} ± {res.Std:F1} over {res.Episodes} episodes");
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

    /// <summary>learning_curve.png: recent training return and evaluation return against steps.</summary>
    static void PlotCurve(string dir, NanoMbpo.Rl.Agent agent)
    {
        var rows = File.ReadLines(Path.Combine(dir, RunLoop.CsvName)).Skip(1).Select(l => l.Split(',')).ToList();
        var tr = rows.Where(c => c[2].Length > 0).ToList();
        if (tr.Count == 0) return;
        double P(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        double[] x = tr.Select(c => P(c[0])).ToArray(), y = tr.Select(c => P(c[2])).ToArray();
        // Evaluation points are sparser; carry the last one forward so both series share x.
        double last = double.NaN;
        double[] ev = tr.Select(c => last = c[3].Length > 0 ? P(c[3]) : last).ToArray();
        Plots.Curve(Path.Combine(dir, "learning_curve.png"), $"{agent.Algo} on {agent.Env.Name} (seed {agent.Seed})", "environment steps",
            x, ("training return (recent episodes)", y), ("evaluation return", ev));
    }
}
