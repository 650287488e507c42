// Numeric faults in RL runs: an environment that returns a NaN reward, and a NaN planted in one network's
// gradient (Agent.GradientFault) in SAC, discrete SAC, DQN and REINFORCE, stop RunLoop with NonFiniteException
// naming the step, the network and (for gradients) the first parameter holding the NaN; the last checkpoint
// then resumes to the same metrics CSV as a run that never failed. The CSV carries the gradient norms and
// mean/max |Q| (or |V|) columns, finite and consistent; MBPO adds its world model's largest gradient norm.
using System.Globalization;
using NanoMbpo.Rl;
using NanoMbpo.Rl.Envs;
using Xunit;

namespace NanoMbpo.Rl.Tests;

public class NumericFaultTests
{
    /// <summary>Pendulum that returns a NaN reward at one step of its life (counted over Step calls).</summary>
    sealed class NaNRewardEnv(long at) : IEnv
    {
        readonly Pendulum inner = new();
        long steps;
        public string Name => inner.Name;
        public string Key => inner.Key;
        public int ObsDim => inner.ObsDim;
        public int NumActions => inner.NumActions;
        public int ActionDim => inner.ActionDim;
        public float ActionLow => inner.ActionLow;
        public float ActionHigh => inner.ActionHigh;
        public int MaxEpisodeSteps => inner.MaxEpisodeSteps;
        public void Reset(Rng rng, Span<float> obs) => inner.Reset(rng, obs);
        public StepResult Step(ReadOnlySpan<float> action, Span<float> obs)
        {
            var r = inner.Step(action, obs);
            return ++steps == at ? r with { Reward = double.NaN } : r;
        }
        public double[] GetState() => inner.GetState();
        public void SetState(double[] state) => inner.SetState(state);
    }

    static Agent Make(string algo, IEnv? env = null) => algo switch
    {
        "sac" => new Sac(env ?? new Pendulum(), 3, new SacOptions { Hidden = [8], BatchSize = 32, LearningStarts = 20, BufferSize = 400 }),
        "sac-discrete" => new SacDiscrete(new CartPole(false), 3, new SacDiscreteOptions { Hidden = [8], BatchSize = 16, LearningStarts = 20, BufferSize = 400 }),
        "dqn" => new Dqn(new CartPole(false), 3, new DqnOptions { Hidden = [8], BatchSize = 16, LearningStarts = 20, TrainFreq = 4, GradientSteps = 1, ScheduleSteps = 200 }),
        "reinforce" => new Reinforce(new CartPole(false), 3, new ReinforceOptions { Hidden = [8] }),
        _ => throw new ArgumentException(algo),
    };

    static RunOptions Opts(string dir, long steps) => new() { Steps = steps, OutDir = dir, LogEvery = 10, EvalEvery = 100, EvalEpisodes = 1, CheckpointEvery = 100, ProgressSeconds = 0 };

    static string Root(string name) => Path.Combine(Path.GetTempPath(), $"rl_fault_{name}_{Environment.ProcessId}");

    static string Csv(string dir) => File.ReadAllText(Path.Combine(dir, RunLoop.CsvName));

    [Fact]
    public void NaNRewardStopsTheRunAndTheLastCheckpointResumes()
    {
        string root = Root("reward"), bad = Path.Combine(root, "bad"), good = Path.Combine(root, "good");
        var agent = Make("sac", new NaNRewardEnv(at: 105));
        var e = Assert.Throws<NonFiniteException>(() => RunLoop.Run(agent, Opts(bad, 300), TextWriter.Null));
        Assert.InRange(agent.Step, 105, 199);   // caught before the next checkpoint (200) could save the NaN
        Assert.Contains($"step {agent.Step}", e.Message);
        Assert.Contains("critic", e.Message);
        // The checkpoint of step 100 is intact: resuming it on a healthy environment equals a run that never failed.
        RunLoop.Run(Make("sac"), Opts(bad, 300), TextWriter.Null, resume: true);
        RunLoop.Run(Make("sac"), Opts(good, 300), TextWriter.Null);
        Assert.Equal(Csv(good), Csv(bad));
        Directory.Delete(root, true);
    }

    [Theory]
    [InlineData("sac", "actor")]
    [InlineData("sac", "critic")]
    [InlineData("sac-discrete", "critic")]
    [InlineData("dqn", "q")]
    [InlineData("reinforce", "policy")]
    [InlineData("reinforce", "value")]
    public void NaNGradientNamesStepNetworkAndParameterAndTheLastCheckpointResumes(string algo, string network)
    {
        string root = Root($"{algo}_{network}"), bad = Path.Combine(root, "bad"), good = Path.Combine(root, "good");
        var agent = Make(algo);
        string? planted = null;
        long plantedAt = -1;
        agent.GradientFault = (net, store) =>
        {
            if (net != network || agent.Step < 130 || planted is not null) return;
            var p = store.Parameters[1];   // the first parameter's gradient stays finite: the report must find the second
            p.Grad!.F32[2] = float.NaN;
            planted = p.Name; plantedAt = agent.Step;
        };
        var e = Assert.Throws<NonFiniteException>(() => RunLoop.Run(agent, Opts(bad, 200), TextWriter.Null));
        Assert.NotNull(planted);
        Assert.Contains($"{network}: non-finite gradient at step {plantedAt}", e.Message);
        Assert.Contains($"parameter '{planted}'", e.Message);
        Assert.Contains("flat index 2 is NaN", e.Message);
        RunLoop.Run(Make(algo), Opts(bad, 200), TextWriter.Null, resume: true);
        RunLoop.Run(Make(algo), Opts(good, 200), TextWriter.Null);
        Assert.Equal(Csv(good), Csv(bad));
        CheckMetricColumns(Path.Combine(good, RunLoop.CsvName), Make(algo));
        Directory.Delete(root, true);
    }

    [Fact]
    public void MbpoReportsTheWorldModelsLargestGradientNorm()
    {
        string dir = Root("mbpo");
        var agent = new Mbpo(new Pendulum(), 3, new MbpoOptions
        {
            InitialRandomSteps = 40, ModelTrainFreq = 40, RolloutBatch = 10, UpdatesPerStep = 1, MaxRolloutLength = 2,
            Model = new WorldModelOptions { Members = 3, Elites = 2, Hidden = 8, HiddenLayers = 1, WeightDecay = [1e-4, 1e-4], MaxEpochs = 2, BatchSize = 16 },
        }, new Sac(new Pendulum(), 3, new SacOptions { Hidden = [8], BatchSize = 16, BufferSize = 1 }));
        RunLoop.Run(agent, Opts(dir, 100), TextWriter.Null);
        double norm = agent.Metrics["grad_norm_world_model"];
        Assert.True(norm > 0 && double.IsFinite(norm), $"grad_norm_world_model = {norm}");
        Assert.Equal(norm, agent.Model.LastGradNormMax);
        Assert.Contains("grad_norm_world_model", File.ReadLines(Path.Combine(dir, RunLoop.CsvName)).First());
        CheckMetricColumns(Path.Combine(dir, RunLoop.CsvName), agent);
        Directory.Delete(dir, true);
    }

    /// <summary>Every grad_norm_* column of the last row is finite and positive; 0 ≤ mean |Q| ≤ max |Q|.</summary>
    static void CheckMetricColumns(string csv, Agent agent)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        var last = lines[^1].Split(',');
        double Col(string name) => double.Parse(last[Array.IndexOf(header, name)], CultureInfo.InvariantCulture);
        var norms = agent.MetricNames.Where(n => n.StartsWith("grad_norm_", StringComparison.Ordinal)).ToList();
        Assert.Equal(agent is Dqn ? 1 : agent is Mbpo ? 3 : 2, norms.Count);
        foreach (var n in norms) Assert.True(Col(n) > 0 && double.IsFinite(Col(n)), $"{n} = {Col(n)}");
        string q = agent is Reinforce ? "v" : "q";
        Assert.InRange(Col(q + "_abs_mean"), 0, Col(q + "_abs_max"));
        Assert.True(Col(q + "_abs_max") > 0);
    }
}
