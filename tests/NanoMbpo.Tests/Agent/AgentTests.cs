// Stage-1 agent: the hashed history encoder and behaviour cloning of the expert (the main job),
// on a small configuration so the test stays fast.
using NanoMbpo.Agent;
using NanoMbpo.Dialog;
using Xunit;

namespace NanoMbpo.Tests.Agent;

public class AgentTests
{
    [Fact]
    public void EncoderIsDeterministicNormalisedAndSeesSpeakerAndTurns()
    {
        var enc = new HashedTextEncoder(256);
        var h1 = new List<Utterance> { new(Speaker.Seller, KinPizzaEnv.Greeting), new(Speaker.Customer, "two large pizzas with ham") };
        var a = new float[256]; var b = new float[256];
        enc.Encode(h1, a); enc.Encode(h1, b);
        Assert.Equal(a, b);
        Assert.Equal(1.0, a.Take(240).Sum(v => (double)v * v), 5);
        var swapped = new List<Utterance> { new(Speaker.Customer, KinPizzaEnv.Greeting), new(Speaker.Seller, "two large pizzas with ham") };
        var c = new float[256];
        enc.Encode(swapped, c);
        Assert.NotEqual(a, c);
        Assert.Equal(1f, a[240 + 1]);
        // Swapping the speakers of two short utterances (no hash collisions) changes only the hash
        // tags: the same multiset of hashed features in other positions, the same turn slot.
        var s1 = new List<Utterance> { new(Speaker.Seller, "hello"), new(Speaker.Customer, "ham please") };
        var s2 = new List<Utterance> { new(Speaker.Customer, "hello"), new(Speaker.Seller, "ham please") };
        var e1 = new float[256]; var e2 = new float[256];
        enc.Encode(s1, e1); enc.Encode(s2, e2);
        Assert.Equal(6, e1.Take(240).Count(v => v != 0));   // hello, <s>-hello; ham, please, <s>-ham, ham-please
        Assert.Equal(e1.Take(240).Order().ToArray(), e2.Take(240).Order().ToArray());
        Assert.Equal(6, e1.Take(240).Zip(e2.Take(240)).Count(p => p.First == 0 && p.Second != 0));
        Assert.Equal(e1.Skip(240).ToArray(), e2.Skip(240).ToArray());
        Assert.Throws<ArgumentException>(() => enc.Encode(h1, new float[10]));
    }

    [Fact]
    public void EncoderFeaturesAreTheNormalisedUnigramAndBigramCounts()
    {
        // "ham ham" by the seller: unigram ham ×2, bigrams (<s>, ham) and (ham, ham) once each, so
        // the hashed part is (2, 1, 1)/√6 in three positions, and the turn slot of 1 seller turn is set.
        var enc = new HashedTextEncoder(256);
        var f = new float[256];
        enc.Encode([new(Speaker.Seller, "Ham, ham!")], f);
        var nonZero = f.Take(240).Where(v => v != 0).Order().ToArray();
        Assert.Equal(3, nonZero.Length);
        double r6 = Math.Sqrt(6);
        Assert.Equal(1 / r6, nonZero[0], 6); Assert.Equal(1 / r6, nonZero[1], 6); Assert.Equal(2 / r6, nonZero[2], 6);
        Assert.Equal([0f, 1f, .. new float[14]], f.Skip(240).ToArray());
        // A customer utterance adds no seller turn: turn slot 0.
        enc.Encode([new(Speaker.Customer, "ham")], f);
        Assert.Equal(1f, f[240]);
        Assert.Equal(2, f.Take(240).Count(v => v != 0));
        Assert.All(f.Take(240).Where(v => v != 0), v => Assert.Equal(1 / Math.Sqrt(2), v, 6));
    }

    static readonly BcOptions Small = new() { Dialogs = 80, Epochs = 8, BatchSize = 32, FeatureDim = 256, Hidden = 64, EvalEpisodes = 60, LearningRate = 3e-3 };

    [Fact]
    public void BehaviourCloningLearnsTheExpertAndIsReproducible()
    {
        var r1 = BehaviorCloning.Run(Small);
        Assert.True(r1.Curve[^1].Loss < r1.Curve[0].Loss * 0.5, $"loss {r1.Curve[0].Loss} -> {r1.Curve[^1].Loss}");
        Assert.True(r1.Learner.Success.Mean > r1.Random.Success.Mean + 0.3,
            $"learner {r1.Learner.Success.Mean:P1} vs random {r1.Random.Success.Mean:P1}");
        var r2 = BehaviorCloning.Run(Small);
        Assert.Equal(r1.Curve.Select(c => c.Loss), r2.Curve.Select(c => c.Loss));
        Assert.Equal(r1.Learner.Success.Mean, r2.Learner.Success.Mean);
    }

    [Fact]
    public void BadOptionsNameTheArgument()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BehaviorCloning.Run(Small with { Epochs = 0 }));
        Assert.Contains("--epochs", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => BehaviorCloning.Run(Small with { Epsilon = 2 }));
        Assert.Contains("--epsilon", e.Message);
    }

    [Fact]
    public void CheckpointIsWrittenEachEpochAndLoads()
    {
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-bc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "policy.safetensors");
            var r = BehaviorCloning.Run(Small with { Epochs = 2, EvalEpisodes = 5 }, null, path);
            Assert.True(File.Exists(path));
            var store = new ParameterStore();
            _ = new NanoMbpo.NN.Mlp(store, "policy.", [256, 64, 64, KinPizzaEnv.ActionCount], NanoMbpo.NN.Activation.Relu, new Rng(9));
            NanoMbpo.NN.Checkpoint.Load(store, path);
            Assert.Equal(r.Policy.Net.Store.Data<float>().ToArray(), store.Data<float>().ToArray());
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>`nanombpo train --device ilgpu-cpu`: the same job on ILGPU's CPU accelerator (every
    /// forward, backward and Adam step as kernels, checkpoint read back from the device) gives the CPU's
    /// losses within 1e-4 and a checkpoint equal to its final weights.</summary>
    [Fact]
    public void BehaviourCloningOnIlgpuCpuMatchesTheCpu()
    {
        var tiny = Small with { Dialogs = 4, Epochs = 2, FeatureDim = 64, Hidden = 16, EvalEpisodes = 3 };
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-bcdev-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "policy.safetensors");
            var cpu = BehaviorCloning.Run(tiny);
            var dev = BehaviorCloning.Run(tiny, null, path, Device.IlgpuCpu);
            for (int e = 0; e < cpu.Curve.Count; e++)
                Assert.True(Math.Abs(cpu.Curve[e].Loss - dev.Curve[e].Loss) <= 1e-4 * Math.Max(1, Math.Abs(cpu.Curve[e].Loss)),
                    $"epoch {e + 1}: cpu loss {cpu.Curve[e].Loss} vs ilgpu-cpu {dev.Curve[e].Loss}");
            Assert.True(dev.Policy.Net.Store.Device.IsCpu, "the store comes back to the CPU for evaluation");
            var store = new ParameterStore();
            _ = new NanoMbpo.NN.Mlp(store, "policy.", [64, 16, 16, KinPizzaEnv.ActionCount], NanoMbpo.NN.Activation.Relu, new Rng(9));
            NanoMbpo.NN.Checkpoint.Load(store, path);
            Assert.Equal(dev.Policy.Net.Store.Data<float>().ToArray(), store.Data<float>().ToArray());
            // Loading into a store that lives on the device keeps it there.
            var onDevice = new ParameterStore();
            _ = new NanoMbpo.NN.Mlp(onDevice, "policy.", [64, 16, 16, KinPizzaEnv.ActionCount], NanoMbpo.NN.Activation.Relu, new Rng(9));
            onDevice.MoveTo(Device.IlgpuCpu);
            NanoMbpo.NN.Checkpoint.Load(onDevice, path);
            Assert.Equal(Device.IlgpuCpu, onDevice.Device);
            onDevice.MoveTo(Device.Cpu);
            Assert.Equal(store.Data<float>().ToArray(), onDevice.Data<float>().ToArray());
        }
        finally { Directory.Delete(dir, true); }
    }
}
