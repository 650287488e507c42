// The ensemble world model on a device (WorldModel.MoveTo): trained on ILGPU's CPU accelerator from the same
// data, seeds and bootstrap as on the CPU, its members' holdout MSEs, elites and sampled predictions match the
// CPU's (members, Adam moments and the loss on the device; normaliser and batches on the host).
// Run: dotnet test tests/NanoMbpo.Rl.Tests -c Release --filter "FullyQualifiedName~WorldModelDeviceTests".
using NanoMbpo.Rl;
using Xunit;

namespace NanoMbpo.Rl.Tests;

public class WorldModelDeviceTests
{
    [Fact]
    public void TrainsAndPredictsLikeTheCpuOnIlgpuCpu()
    {
        var buf = ModelTests.PendulumData(300, 400);
        // a fixed number of steps (no early stop on a 1 % threshold that rounding could tip)
        var opts = new WorldModelOptions { Members = 3, Elites = 2, Hidden = 16, HiddenLayers = 2, WeightDecay = [2.5e-5, 5e-5, 1e-4], BatchSize = 64, MaxEpochs = 6, MinStepsPerCheck = 1000, LearningRate = 1e-2 };
        (WorldModel Model, double[] Mse, float[] Next, float[] Rewards) Run(Device device)
        {
            var wm = new WorldModel(3, 1, new Rng(2), opts);
            wm.MoveTo(device);
            var (_, mse) = wm.Train(buf, new Rng(3), 0);
            var s = new float[] { 0.9f, 0.2f, -0.5f, 0.1f, 0.99f, 1.5f };
            var next = new float[6]; var rew = new float[2];
            wm.Predict(s, [1f, -1f], 2, new Rng(5), next, rew);
            return (wm, mse, next, rew);
        }
        var cpu = Run(Device.Cpu);
        var dev = Run(Device.IlgpuCpu);
        Assert.Equal(Device.IlgpuCpu, dev.Model.Device);
        Assert.True(dev.Model.NormStore.Device.IsCpu, "the normaliser stays on the host");
        for (int e = 0; e < 3; e++)
            Assert.True(Math.Abs(cpu.Mse[e] - dev.Mse[e]) <= 1e-4 * Math.Max(1, cpu.Mse[e]), $"member {e}: holdout MSE cpu {cpu.Mse[e]} vs ilgpu-cpu {dev.Mse[e]}");
        Assert.Equal(cpu.Model.EliteIndices, dev.Model.EliteIndices);
        for (int i = 0; i < 6; i++) Assert.True(Math.Abs(cpu.Next[i] - dev.Next[i]) <= 1e-3, $"next[{i}] cpu {cpu.Next[i]} vs {dev.Next[i]}");
        for (int i = 0; i < 2; i++) Assert.True(Math.Abs(cpu.Rewards[i] - dev.Rewards[i]) <= 1e-3, $"reward[{i}] cpu {cpu.Rewards[i]} vs {dev.Rewards[i]}");
        // the model learned something, so the comparison is not between two untouched initialisations
        var (_, untrained) = new WorldModel(3, 1, new Rng(2), opts with { MaxEpochs = 0 }).Train(buf, new Rng(3), 0);
        for (int e = 0; e < 3; e++) Assert.True(cpu.Mse[e] < 0.8 * untrained[e], $"member {e}: holdout MSE {untrained[e]} -> {cpu.Mse[e]}");
    }
}
