// RunLoop: drives any Agent for N environment steps and does the bookkeeping every algorithm shares:
// a progress line with rate and ETA, a metrics CSV (one row per --log-every steps: recent return,
// evaluation return, the agent's losses), deterministic evaluations on fixed episode seeds,
// checkpoints (every network and optimizer as safetensors, the replay buffers, RNG streams and
// environment state; RunCheckpoint.cs writes and validates them) and exact resume: a resumed run rewrites the CSV up to its checkpoint and then
// produces the same rows, bit for bit, as an uninterrupted run with the same seed and threads.
// A NaN/Inf loss stops the run with NonFiniteException naming the step and network (a NaN/Inf gradient
// also names the first parameter holding it: Agent.CheckGradients); the last checkpoint stays loadable. Tests: tests/NanoMbpo.Rl.Tests/ResumeTests.cs.
using System.Diagnostics;
using System.Globalization;
using NanoMbpo.IO;
using NanoMbpo.Rl.Envs;

namespace NanoMbpo.Rl;

public sealed record RunOptions
{
    public long Steps { get; init; } = 20_000;
    public string OutDir { get; init; } = "runs/rl";
    public int LogEvery { get; init; } = 1000;
    public int EvalEvery { get; init; } = 5000;
    public int EvalEpisodes { get; init; } = 10;
    public int CheckpointEvery { get; init; } = 5000;
    /// <summary>Finished episodes averaged into the CSV's return_recent.</summary>
    public int RecentWindow { get; init; } = 10;
    /// <summary>Seconds between progress lines (0: none).</summary>
    public double ProgressSeconds { get; init; } = 5;
}

/// <summary>Mean and standard deviation of deterministic evaluation episodes.</summary>
public readonly record struct EvalResult(double Mean, double Std, int Episodes, double[] Returns);

public static class RunLoop
{
    public const string CsvName = "metrics.csv", CheckpointDir = "checkpoint";

    /// <summary>Runs <paramref name="agent"/> to options.Steps; with <paramref name="resume"/> it first loads the checkpoint in OutDir.</summary>
    public static EvalResult Run(Agent agent, RunOptions o, TextWriter log, bool resume = false)
    {
        Directory.CreateDirectory(o.OutDir);
        string csvPath = Path.Combine(o.OutDir, CsvName);
        var recent = new List<double>();
        var rows = new List<string>();
        long episodes = 0;
        string header = "step,episodes,return_recent,eval_return," + string.Join(",", MetricNames(agent));
        if (resume)
        {
            (episodes, var rec) = RunCheckpoint.Load(agent, Path.Combine(o.OutDir, CheckpointDir));
            recent.AddRange(rec);
            rows.AddRange(RunCheckpoint.ReadMetricRows(csvPath, header, agent.Step));
            log.WriteLine($"resumed {agent.Algo} on {agent.Env.Name} at step {agent.Step} from {Path.Combine(o.OutDir, CheckpointDir)}");
        }
        // The header and the rows kept on resume replace the file atomically (never an empty or half-rewritten
        // CSV); the rows of the run are then appended one by one.
        AtomicFile.WriteAllText(csvPath, string.Concat(rows.Prepend(header).Select(l => l + Environment.NewLine)));
        using var csv = new StreamWriter(csvPath, append: true);
        var sw = Stopwatch.StartNew();
        long startStep = agent.Step;
        double lastProgress = 0;
        EvalResult? lastEval = null;
        while (agent.Step < o.Steps)
        {
            agent.TrainStep();
            foreach (var ret in agent.FinishedReturns)
            {
                episodes++;
                recent.Add(ret);
                if (recent.Count > o.RecentWindow) recent.RemoveAt(0);
            }
            agent.FinishedReturns.Clear();
            long step = agent.Step;
            bool evalNow = o.EvalEvery > 0 && step % o.EvalEvery == 0;   // on schedule only, so a run cut short writes the rows of a longer one
            if (evalNow) lastEval = Evaluate(agent, o.EvalEpisodes);
            if (step % o.LogEvery == 0 || evalNow)
            {
                csv.WriteLine(string.Join(",", [step.ToString(CultureInfo.InvariantCulture), episodes.ToString(CultureInfo.InvariantCulture),
                    recent.Count > 0 ? Num(recent.Average()) : "", evalNow ? Num(lastEval!.Value.Mean) : "",
                    .. MetricNames(agent).Select(k => agent.Metrics.TryGetValue(k, out var v) ? Num(v) : "")]));
                csv.Flush();
            }
            if (o.CheckpointEvery > 0 && step % o.CheckpointEvery == 0 || step == o.Steps)
                RunCheckpoint.Save(agent, Path.Combine(o.OutDir, CheckpointDir), episodes, recent);
            double t = sw.Elapsed.TotalSeconds;
            if (o.ProgressSeconds > 0 && (t - lastProgress >= o.ProgressSeconds || step == o.Steps))
            {
                lastProgress = t;
                double rate = (step - startStep) / Math.Max(t, 1e-9);
                var eta = TimeSpan.FromSeconds((o.Steps - step) / Math.Max(rate, 1e-9));
                string ret = recent.Count > 0 ? $" return {recent.Average():F1}" : "";
                string ev = lastEval is { } e ? $" eval {e.Mean:F1}" : "";
                log.WriteLine($"step {step}/{o.Steps} ({100.0 * step / o.Steps:F0}%) {rate:F0} steps/s ETA {eta:mm\\:ss}{ret}{ev} " +
                              string.Join(" ", agent.Metrics.Select(kv => $"{kv.Key} {kv.Value:G4}")));
            }
        }
        return lastEval is { } le && o.EvalEvery > 0 && agent.Step % o.EvalEvery == 0 ? le : Evaluate(agent, o.EvalEpisodes);
    }

    static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The agent's metric columns (fixed per algorithm so a resumed CSV keeps its header).</summary>
    static IEnumerable<string> MetricNames(Agent agent) => agent.MetricNames;

    /// <summary>Deterministic evaluation: episode k starts from the reset of stream 1000 + k of the
    /// run seed, so every evaluation of a run (and a resumed one) sees the same start states.</summary>
    public static EvalResult Evaluate(Agent agent, int episodes)
    {
        var env = Envs.Envs.Make(agent.EnvKey);
        var o = new float[env.ObsDim]; var a = new float[env.ActionDim];
        var returns = new double[episodes];
        for (int k = 0; k < episodes; k++)
        {
            env.Reset(new Rng(agent.Seed).Fork(1000 + (ulong)k), o);
            double total = 0;
            while (true)
            {
                agent.Act(o, a);
                var res = env.Step(a, o);
                total += res.Reward;
                if (res.Done) break;
            }
            returns[k] = total;
        }
        double mean = returns.Average();
        double std = Math.Sqrt(returns.Select(x => (x - mean) * (x - mean)).Sum() / Math.Max(1, episodes));
        return new EvalResult(mean, std, episodes, returns);
    }
}
