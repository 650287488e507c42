// PyTorch parity of the nn modules (torch naming): torch.nn.MultiheadAttention, torch.nn.TransformerEncoderLayer
// (gelu, post-LN, eps 1e-12, batch_first, dropout 0), a 2-layer pre-LN torch.nn.TransformerEncoder with its final
// norm (relu, eps 1e-5), and an MLP as torch.nn.Sequential(Linear, ReLU, Linear, ReLU, Linear). Each runs on the
// CPU and again on ILGPU's CPU accelerator (store and input moved there), both against torch. The fixture weights load into a float32 ParameterStore by
// their exact state_dict keys through Checkpoint.Load; forward runs with the key-padding mask, backward with the
// fixture's r (loss = sum(out * r)); out (≤ 1e-5), dx and every grad.<key> (≤ 1e-4) are compared. Metric: Parity.cs.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.FixtureParity"
using NanoMbpo.IO;
using NanoMbpo.NN;
using Xunit;
using Xunit.Abstractions;
using static NanoMbpo.Tests.FixtureParity.Parity;

namespace NanoMbpo.Tests.FixtureParity;

public sealed class ModuleParityTests(ITestOutputHelper log)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MultiHeadAttentionMatchesTorch(bool onIlgpuCpu)
    {
        const string name = "multihead_attention";
        using var f = Load(name);
        var store = new ParameterStore(DType.F32);
        var mha = new MultiHeadAttention(store, "", dModel: 8, numHeads: 2, TransformerNaming.Torch, rng: null);
        LoadWeights(store, name, f);
        var x = Input(f, store, onIlgpuCpu);   // (B,T,C)
        var y = mha.Forward(x, Mask(f, "key_padding_mask", onIlgpuCpu));
        CompareOutAndGrads(f, store, x, y);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TransformerEncoderLayerMatchesTorch(bool onIlgpuCpu)
    {
        const string name = "transformer_encoder_layer";
        using var f = Load(name);
        double eps = double.Parse(f.Metadata["layer_norm_eps"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(1e-12, eps);
        var store = new ParameterStore(DType.F32);
        // Training mode with dropout 0, as the fixture (torch's autograd path, not its inference fast path).
        var layer = new TransformerEncoderLayer(store, "", new TransformerOptions(DModel: 8, NumHeads: 2, DimFeedforward: 16)
        {
            Dropout = 0,
            Activation = Activation.Gelu,
            NormFirst = false,
            LayerNormEps = eps,
            Naming = TransformerNaming.Torch,
        }, new Rng(8));
        LoadWeights(store, name, f);
        var x = Input(f, store, onIlgpuCpu);   // (B,T,C)
        var y = layer.Forward(x, Mask(f, "src_key_padding_mask", onIlgpuCpu));
        CompareOutAndGrads(f, store, x, y);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TransformerEncoderPreLnWithFinalNormMatchesTorch(bool onIlgpuCpu)
    {
        const string name = "transformer_encoder_preln";
        using var f = Load(name);
        double eps = double.Parse(f.Metadata["layer_norm_eps"], System.Globalization.CultureInfo.InvariantCulture);
        var store = new ParameterStore(DType.F32);
        var encoder = new TransformerEncoder(store, "", new TransformerOptions(DModel: 8, NumHeads: 2, DimFeedforward: 16)
        {
            Dropout = 0,
            Activation = Activation.Relu,
            NormFirst = true,
            LayerNormEps = eps,
            Naming = TransformerNaming.Torch,
        }, numLayers: 2, new Rng(8), finalNorm: true);
        LoadWeights(store, name, f);   // layers.{i}.* and norm.* as nn.TransformerEncoder names them
        var x = Input(f, store, onIlgpuCpu);   // (B,T,C)
        var y = encoder.Forward(x, Mask(f, "src_key_padding_mask", onIlgpuCpu));
        CompareOutAndGrads(f, store, x, y);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MlpMatchesTorchSequential(bool onIlgpuCpu)
    {
        const string name = "mlp_sequential";
        using var f = Load(name);
        var store = new ParameterStore(DType.F32);
        var mlp = new Mlp(store, "", [5, 7, 6, 3], Activation.Relu, rng: null);   // keys 0.*, 2.*, 4.*
        LoadWeights(store, name, f);
        var x = Input(f, store, onIlgpuCpu);   // (4,5)
        CompareOutAndGrads(f, store, x, mlp.Forward(x));
    }

    /// <summary>Loads the fixture's weights by state_dict key and checks the module has exactly the parameters
    /// torch has (the keys that have a grad.&lt;key&gt; entry).</summary>
    static void LoadWeights(ParameterStore store, string name, SafeTensorsFile f)
    {
        var torchKeys = f.Entries.Select(e => e.Name).Where(n => n.StartsWith("grad.", StringComparison.Ordinal))
            .Select(n => n["grad.".Length..]).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(torchKeys, store.Parameters.Select(p => p.Name!).Order(StringComparer.Ordinal));
        // Non-strict: the fixture also holds x, the mask, out, r and the gradients.
        Checkpoint.Load(store, Path.Combine(NanoMbpo.Tests.IO.Fixtures.Directory, name + ".safetensors"), new LoadOptions(Strict: false));
        foreach (var p in store.Parameters)
            Assert.Equal(f[p.Name!].ReadFloat32(), p.F32.ToArray());
        store.ZeroGrad();
    }

    /// <summary>x as a leaf; with <paramref name="onIlgpuCpu"/> the store moves to ILGPU's CPU accelerator
    /// (the GPU kernels' code) and x with it, so the whole forward and backward run there.</summary>
    static Tensor Input(SafeTensorsFile f, ParameterStore store, bool onIlgpuCpu)
    {
        if (!onIlgpuCpu) return F32(f, "x", true);
        store.MoveTo(Device.IlgpuCpu);
        return F32(f, "x").To(Device.IlgpuCpu).RequireGrad();
    }

    static Tensor Mask(SafeTensorsFile f, string name, bool onIlgpuCpu) =>
        onIlgpuCpu ? I32(f, name).To(Device.IlgpuCpu) : I32(f, name);

    void CompareOutAndGrads(SafeTensorsFile f, ParameterStore store, Tensor x, Tensor y)
    {
        var dev = x.Device;
        Assert.Equal(dev, y.Device);
        AssertClose(f, "out", y.To(Device.Cpu), ForwardTol, log);
        y.Backward(dev.IsCpu ? F32(f, "r") : F32(f, "r").To(dev));
        AssertClose(f, "dx", x.Grad?.To(Device.Cpu), GradTol, log);
        store.MoveTo(Device.Cpu);   // parameter gradients come back with the flat buffers
        foreach (var p in store.Parameters)
            AssertClose(f, "grad." + p.Name, p.Grad, GradTol, log);
    }
}
