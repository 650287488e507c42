// Exact resume through RunLoop for every algorithm: a run of N steps and a run of N/2 steps resumed
// to N (a fresh agent loading the checkpoint) write identical metrics CSVs and end with identical
// parameters; a checkpoint of another run is refused; the Algorithms registry builds each name.
using NanoMbpo.Rl;
using NanoMbpo.Rl.Envs;
using Xunit;

namespace NanoMbpo.Rl.Tests;

public class ResumeTests
{
    static readonly WorldModelOptions TinyModel = new() { Members = 3, Elites = 2, Hidden = 16, HiddenLayers = 2, WeightDecay = [1e-4, 1e-4, 1e-4], MaxEpochs = 3, BatchSize = 32 };

    public static TheoryData<string> Algos => new() { "sac", "sac-discrete", "dqn", "reinforce", "mbpo", "mbpo-discrete" };

    static Agent Make(string algo) => algo switch
    {
        "sac" => new Sac(new Pendulum(), 3, new SacOptions { Hidden = [16, 16], BatchSize = 32, LearningStarts = 50, BufferSize = 1000 }),
        "sac-discrete" => new SacDiscrete(new CartPole(false), 3, new SacDiscreteOptions { Hidden = [16, 16], BatchSize = 32, LearningStarts = 50, BufferSize = 1000 }),
        "dqn" => new Dqn(new CartPole(false), 3, new DqnOptions { Hidden = [16, 16], LearningStarts = 50, TrainFreq = 8, GradientSteps = 2, ScheduleSteps = 400, TargetUpdateInterval = 20 }),
        "reinforce" => new Reinforce(new CartPole(false), 3, new ReinforceOptions { Hidden = [16] }),
        "mbpo" => new Mbpo(new Pendulum(), 3, new MbpoOptions { InitialRandomSteps = 60, ModelTrainFreq = 50, RolloutBatch = 40, UpdatesPerStep = 1, RolloutScheduleStart = 0, RolloutScheduleEnd = 300, MaxRolloutLength = 3, Model = TinyModel },
            new Sac(new Pendulum(), 3, new SacOptions { Hidden = [16, 16], BatchSize = 32, BufferSize = 1 })),
        "mbpo-discrete" => new Mbpo(new CartPole(false), 3, new MbpoOptions { InitialRandomSteps = 60, ModelTrainFreq = 50, RolloutBatch = 40, UpdatesPerStep = 1, Model = TinyModel },
            new SacDiscrete(new CartPole(false), 3, new SacDiscreteOptions { Hidden = [16, 16], BatchSize = 32, BufferSize = 1 })),
        _ => throw new ArgumentException(algo),
    };

    static float[] Params(Agent a) => a.Networks().SelectMany(n => n.Store.Data<float>().ToArray()).ToArray();

    [Theory]
    [MemberData(nameof(Algos))]
    public void ResumedRunEqualsUninterruptedRun(string algo)
    {
        string root = Path.Combine(Path.GetTempPath(), $"rl_resume_{algo}_{Environment.ProcessId}");
        string full = Path.Combine(root, "full"), cut = Path.Combine(root, "cut");
        var opts = new RunOptions { Steps = 400, LogEvery = 20, EvalEvery = 100, EvalEpisodes = 2, CheckpointEvery = 100, ProgressSeconds = 0 };
        var a = Make(algo);
        var ra = RunLoop.Run(a, opts with { OutDir = full }, TextWriter.Null);
        RunLoop.Run(Make(algo), opts with { OutDir = cut, Steps = 200 }, TextWriter.Null);
        var b = Make(algo);
        var rb = RunLoop.Run(b, opts with { OutDir = cut }, TextWriter.Null, resume: true);
        Assert.Equal(File.ReadAllText(Path.Combine(full, RunLoop.CsvName)), File.ReadAllText(Path.Combine(cut, RunLoop.CsvName)));
        Assert.Equal(Params(a), Params(b));
        Assert.Equal(ra.Returns, rb.Returns);
        Assert.Equal(21, File.ReadLines(Path.Combine(full, RunLoop.CsvName)).Count());   // header + 20 rows
        Directory.Delete(root, true);
    }

    [Fact]
    public void ResumeRefusesAnotherRunsCheckpoint()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"rl_refuse_{Environment.ProcessId}");
        RunLoop.Run(Make("dqn"), new RunOptions { Steps = 100, OutDir = dir, EvalEvery = 0, CheckpointEvery = 100, ProgressSeconds = 0 }, TextWriter.Null);
        var other = new Dqn(new CartPole(false), 4, new DqnOptions { Hidden = [16, 16] });
        var e = Assert.Throws<InvalidDataException>(() => RunLoop.Run(other, new RunOptions { Steps = 200, OutDir = dir, ProgressSeconds = 0 }, TextWriter.Null, resume: true));
        Assert.Contains("seed 3", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void RegistryBuildsEveryAlgorithm()
    {
        foreach (var (algo, env) in new[] { ("sac", "pendulum"), ("sac", "cartpole-cont"), ("sac-discrete", "cartpole"), ("dqn", "cartpole"), ("reinforce", "cartpole"), ("mbpo", "pendulum"), ("mbpo", "cartpole") })
        {
            var agent = Algorithms.Make(algo, env, 1);
            Assert.Equal(algo, agent.Algo);
            Assert.Equal(env, agent.EnvKey);
        }
        Assert.Throws<ArgumentException>(() => Algorithms.Make("sac", "cartpole", 1));   // discrete actions need sac-discrete
        Assert.Throws<ArgumentException>(() => Algorithms.Make("ppo", "cartpole", 1));
    }
}
