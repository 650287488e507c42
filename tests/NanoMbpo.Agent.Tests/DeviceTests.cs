// The seller agent on a device (`train --device cuda|ilgpu-cpu`, SellerMbpo.MoveTo): on ILGPU's CPU accelerator
// LatentSac's updates (latent Transformer, critics, dynamics head, actor, Polyak targets, Adam on the device; α on
// the host) on the same real and model batches give the CPU's losses, entropy and Q within 1e-4 and the same
// parameters within 1e-3 after 8 steps, and the same latents and π after them; a whole MBPO run (world model
// fitted on the device, rollouts, evaluation, keep-best, checkpoint) finishes there, and its checkpoint loads
// into a CPU learner that acts as the device one does. The CUDA twin skips with the reason without a GPU.
// Run: dotnet test tests/NanoMbpo.Agent.Tests -c Release --filter "FullyQualifiedName~DeviceTests".
using NanoMbpo.Dialog;
using Xunit;

namespace NanoMbpo.Agent.Tests;

/// <summary>A fact that needs a CUDA device and driver (skipped with the reason otherwise).</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    static readonly Lazy<bool> Present = new(Device.CudaAvailable);
    public CudaFactAttribute() { if (!Present.Value) Skip = "No CUDA device/driver on this machine; the ilgpu-cpu variant ran instead."; }
}

// Alone, after the parallel tests: the accelerator runs one OS thread per emulated GPU thread with barriers between
// them, and beside other busy tests on 2 cores it took 5 minutes instead of under 2.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeviceCollection { public const string Name = "Device"; }

[Collection(DeviceCollection.Name)]
public class DeviceTests
{
    [Fact] public void SacUpdatesMatchTheCpuOnIlgpuCpu() => UpdatesMatch(Device.IlgpuCpu);
    [CudaFact] public void SacUpdatesMatchTheCpuOnCuda() => UpdatesMatch(Device.Cuda);
    [Fact] public void MbpoRunsOnIlgpuCpu() => RunsOn(Device.IlgpuCpu);
    [CudaFact] public void MbpoRunsOnCuda() => RunsOn(Device.Cuda);

    // ILGPU's CPU accelerator emulates every GPU thread (a 256×64×192 GEMM takes about a second), so the networks
    // are tiny: 4-utterance windows, width 16, latent 8, batches of 16.
    static SellerOptions Tiny(SellerOptions o) => o with
    {
        Sac = o.Sac with { BatchSize = 16, Hidden = [16, 16], ActionTextDim = 4, Latent = new LatentOptions { MaxSeqLen = 4, DModel = 16, Heads = 2, FeedForward = 32, LatentDim = 8 } },
        Model = o.Model with { Hidden = 16 },
    };

    static readonly string[] Keys = ["critic_loss", "dynamics_loss", "actor_loss", "variance_loss", "entropy", "alpha", "q_mean", "latent_std"];

    static void UpdatesMatch(Device device)
    {
        // real turns and model rollouts from a short CPU run (its model buffer is filled after 100 turns)
        var src = LatentTests.Run(Tiny(LatentTests.Small(dialogs: 20)), 7);
        src.Train();
        Assert.True(src.ModelBuffer.Count > 0);
        var texts = SellerActions.All.Select(a => a.Template).ToList();
        var o = src.Options.Sac;
        var cpu = new LatentSac(src.Table, texts, 9, o);
        var dev = new LatentSac(src.Table, texts, 9, o);
        dev.MoveTo(device);
        Assert.Equal(device, dev.Device);
        Assert.Equal(device, dev.CriticTargetStore.Device);
        Assert.True(dev.AlphaStore.Device.IsCpu);
        var rng = new Rng(4);
        var real = new DialogBatch(o.BatchSize, cpu.L); var model = new LatentBatch(o.BatchSize, cpu.Z);
        for (int step = 0; step < 8; step++)
        {
            cpu.SetProgress(step / 8.0); dev.SetProgress(step / 8.0);
            int nReal = step % 2 == 0 ? o.BatchSize : o.BatchSize / 2;   // all-real and mixed batches
            src.Real.Sample(rng, real, nReal);
            if (nReal < o.BatchSize) src.ModelBuffer.Sample(rng, model, o.BatchSize - nReal);
            cpu.Update(real, nReal < o.BatchSize ? model : null);
            dev.Update(real, nReal < o.BatchSize ? model : null);
            foreach (var k in Keys)
                Assert.True(Math.Abs(cpu.Metrics[k] - dev.Metrics[k]) <= 1e-4 * Math.Max(1, Math.Abs(cpu.Metrics[k])),
                    $"step {step} {k}: cpu {cpu.Metrics[k]} vs {device} {dev.Metrics[k]}");
        }
        foreach (var (name, store, _) in cpu.Networks())
        {
            var a = store.ToArray();
            var b = dev.Networks().First(n => n.Name == name).Store.ToArray();
            double worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(worst <= 1e-3, $"{name}: parameters differ by up to {worst:E2} after 8 steps");
        }
        // the encoders moved (so agreement is not two untouched initialisations) and still agree on latents and π
        Assert.NotEqual(new LatentSac(src.Table, texts, 9, o).EncoderStore.ToArray(), cpu.EncoderStore.ToArray());
        int n = 16;
        var windows = new int[n * cpu.L];
        for (int i = 0; i < n; i++) src.Real.Window(i).CopyTo(windows.AsSpan(i * cpu.L));
        var zc = cpu.Encode(windows, n, target: false); var zd = dev.Encode(windows, n, target: false);
        Assert.True(zc.Zip(zd, (x, y) => Math.Abs(x - y)).Max() <= 1e-3);
        var pc = cpu.Probs(zc, n); var pd = dev.Probs(zc, n);
        Assert.True(pc.Zip(pd, (x, y) => Math.Abs(x - y)).Max() <= 1e-4);
    }

    static void RunsOn(Device device)
    {
        // 10 uniform dialogs, then 2 with updates (one per turn), a world-model fit every 20 turns and its rollouts
        var agent = LatentTests.Run(Tiny(LatentTests.Small(dialogs: 12)) with { EvalEvery = 6, EvalEpisodes = 2, UpdatesPerStep = 1, ModelTrainEvery = 20, RolloutBatch = 16 }, 5);
        agent.MoveTo(device);
        var log = new List<string>();
        agent.Train(log.Add);
        Assert.Equal(device, agent.Learner.Device);
        Assert.Equal(device, agent.Model!.Device);
        Assert.Equal(2, agent.Curve.Count);
        Assert.True(agent.Metrics["model_holdout_mse"] > 0 && double.IsFinite(agent.Metrics["model_holdout_mse"]));
        Assert.True(agent.ModelBuffer.Count > 0, "rollouts from the device model");
        Assert.All(agent.Metrics.Values, v => Assert.True(double.IsFinite(v)));
        string dir = Directory.CreateTempSubdirectory("nanombpo-seller-device-").FullName;
        try
        {
            SellerCheckpoint.Save(agent, dir);
            var loaded = new LatentSac(agent.Table, SellerActions.All.Select(a => a.Template).ToList(), 99, agent.Options.Sac);
            SellerCheckpoint.Load(loaded, dir);
            Assert.Equal(agent.Learner.ActorStore.ToArray(), loaded.ActorStore.ToArray());
            var rng = new Rng(1);
            for (int i = 0; i < 10; i++)
                Assert.Equal(loaded.Act(agent.Real.Window(i), greedy: true, rng), agent.Learner.Act(agent.Real.Window(i), greedy: true, rng));
        }
        finally { Directory.Delete(dir, true); }
    }
}
