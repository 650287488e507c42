// BERT on a device (issue 10, item 5): a BertEncoder whose model was moved to ILGPU's CPU accelerator
// gives the CPU path's last hidden state (real tokens), [CLS] and mean pooling within 1e-4 absolute, on a
// padded batch of unequal lengths (the tiny one also an unpadded batch: no mask): the committed tiny
// fixture (two layers, HS = 4) and the real all-MiniLM-L6-v2's first layer at full width on two
// short texts (skipped with the reason without its NuGet package); on CUDA (skipped with the reason
// without a GPU) the tiny fixture and all of MiniLM on three batches up to 64 tokens. Also the device
// arena the encoder relies on: a second pass of the same shapes allocates no device memory.
// The `encode` / `bench bert` --device runs are in CommandTests.cs.
// Run: dotnet test tests/NanoMbpo.Bert.Tests -c Release --filter "FullyQualifiedName~DeviceTests".
using NanoMbpo.NN;
using Xunit.Abstractions;

namespace NanoMbpo.Bert.Tests;

/// <summary>A fact that needs a CUDA device and driver (skipped with the reason otherwise).</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    static readonly Lazy<bool> Present = new(Device.CudaAvailable);
    public CudaFactAttribute(bool miniLm = false)
    {
        if (!Present.Value) Skip = "No CUDA device/driver on this machine; the ilgpu-cpu variant ran instead.";
        else if (miniLm && DefaultBert.FindPackageAssembly() is null)
            Skip = $"NuGet package {DefaultBert.PackageId} {DefaultBert.PackageVersion} not in '{DefaultBert.NuGetPackagesRoot()}' (dotnet restore puts it there)";
    }
}

public sealed class DeviceTests(ITestOutputHelper output)
{
    // Sorted by length: "w4" (3 tokens), "w2 w2" (4), "w1 w2 w3" (5) form a padded batch of 3; the long one runs alone.
    static readonly string[] TinyTexts = ["w1 w2 w3", "w4", "w5 w6 w7 w8 w9 w10 w11 w12 w13 w14", "w2 w2"];
    static readonly string[] MiniLmTexts = ["I'd like a large pizza.", "Hi!", "Add mushrooms and olives, please."];

    [Fact] public void TinyOnIlgpuCpuMatchesCpu() => Compare(() => BertCheckpoint.Load(TestData.Tiny).Model, TestData.Tiny, Device.IlgpuCpu, TinyTexts, 20, 3);

    // The CPU accelerator emulates every GPU thread: one (48,384)x(384,1536) GEMM took ~10 s on one busy
    // core, a full MiniLM forward minutes. So: MiniLM's first layer at full width (C = 384, 12 heads of 32,
    // FF = 1536) on two short texts of unequal length (one padded batch, T = 8).
    [MiniLmFact]
    public void MiniLmOnIlgpuCpuMatchesCpu() =>
        Compare(() => FirstLayers(BertCheckpoint.Load(MiniLm.Dir).Model, 1), MiniLm.Dir, Device.IlgpuCpu, ["Hi!", "A large pizza."], 8, 2);

    [CudaFact] public void TinyOnCudaMatchesCpu() => Compare(() => BertCheckpoint.Load(TestData.Tiny).Model, TestData.Tiny, Device.Cuda, TinyTexts, 20, 3);

    [CudaFact(miniLm: true)]
    public void MiniLmOnCudaMatchesCpu() =>
        // All six layers; three batches of up to 16, up to 64 tokens: shapes past the GPU kernels' tiles.
        Compare(() => BertCheckpoint.Load(MiniLm.Dir).Model, MiniLm.Dir, Device.Cuda,
            [.. MiniLmTexts, .. Enumerable.Range(0, 40).Select(i => $"order {i}: {i % 3 + 1} pizzas with {new string('x', i % 7 + 1)}")], 64, 16);

    /// <summary>A model of the first <paramref name="layers"/> layers of <paramref name="src"/> (same weights).</summary>
    static BertModel FirstLayers(BertModel src, int layers)
    {
        var m = new BertModel(new ParameterStore(DType.F32, 1 << 20), src.Config with { NumHiddenLayers = layers }, src.Pooler is not null, new Rng(0));
        var byName = src.Parameters().ToDictionary(p => p.Name!, StringComparer.Ordinal);
        foreach (var p in m.Parameters()) byName[p.Name!].F32.CopyTo(p.F32);
        return m;
    }

    /// <summary>Encodes <paramref name="texts"/> on the CPU (fused path) and on <paramref name="device"/>
    /// (each with its own copy of the weights): hidden states of the real tokens, and the CPU's Embed
    /// ([CLS], mean) against the device's pooling of its one pass (pooling is host code on both).</summary>
    void Compare(Func<BertModel> load, string dir, Device device, string[] texts, int maxLen, int batch)
    {
        using var fp32 = Tf32.Scope(false);   // the 1e-4 bound is for fp32 GEMMs
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var tok = new BertTextTokenizer(Path.Combine(dir, "vocab.txt"));
        var cpu = new BertEncoder(load(), tok, maxLen, batch);
        var dev = new BertEncoder(load(), tok, maxLen, batch, device);
        Assert.True(cpu.Device.IsCpu);
        Assert.Equal(device, dev.Device);
        Assert.Equal(device, dev.Model.WordEmbeddings.Weight.Device);
        int H = cpu.Hidden;
        var hc = new float[texts.Length][];
        var hd = new float[texts.Length][];
        var pooled = new Dictionary<Pooling, float[,]> { [Pooling.Cls] = new float[texts.Length, H], [Pooling.Mean] = new float[texts.Length, H] };
        cpu.Encode(texts, (i, h, len) => hc[i] = h[..(len * H)].ToArray());   // (len,H) real tokens
        dev.Encode(texts, (i, h, len) =>
        {
            hd[i] = h[..(len * H)].ToArray();
            foreach (var (p, into) in pooled) dev.Pool(h, len, p, System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref into[i, 0], H));
        });
        double worst = 0;
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(hc[i].Length, hd[i].Length);
            for (int k = 0; k < hc[i].Length; k++) worst = Math.Max(worst, Math.Abs(hc[i][k] - hd[i][k]));
        }
        output.WriteLine($"{device}: max |hidden diff| over real tokens {worst:E2}");
        Assert.True(worst <= 1e-4, $"last hidden state on {device} differs from the CPU by up to {worst:E2} (> 1e-4)");
        foreach (var (pooling, ed) in pooled)
        {
            var ec = cpu.Embed(texts, pooling);
            double w = 0;
            for (int i = 0; i < texts.Length; i++) for (int k = 0; k < H; k++) w = Math.Max(w, Math.Abs(ec[i, k] - ed[i, k]));
            output.WriteLine($"{device}: max |{pooling} diff| {w:E2}");
            Assert.True(w <= 1e-4, $"{pooling} pooling on {device} differs from the CPU by up to {w:E2} (> 1e-4)");
        }
        output.WriteLine($"{texts.Length} texts, max length {maxLen}, batch {batch}, {dev.Model.Config.NumHiddenLayers} layers: {sw.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void DeviceArenaAllocatesNothingOnASecondPass()
    {
        var d = Device.IlgpuCpu;
        var x = Tensor.Uniform(new Rng(1), [3, 5], -1, 1).To(d);
        var arena = new TensorArena { ServesDevice = true };
        float[] Pass()
        {
            using (Autograd.NoGrad())
            using (arena.Use())
            {
                var y = F.Gelu(F.Add(F.LayerNorm(x, null, null, 1e-5), Tensor.Zeros([3, 5], DType.F32, d)));   // (3,5)
                Assert.Same(d, y.Device);
                return y.To(Device.Cpu).F32.ToArray();
            }
        }
        var first = Pass();
        long misses = arena.Misses;
        Assert.True(misses > 0, "the arena served no device buffer");
        var second = Pass();
        Assert.Equal(misses, arena.Misses);
        Assert.Equal(first, second);
        // An arena that does not serve devices leaves device allocations alone.
        var plain = new TensorArena();
        using (plain.Use()) _ = F.Gelu(x);
        Assert.Equal(0, plain.Misses);
    }
}
