// Parity with PyTorch in float32 (tests/fixtures, made by make_fixtures.py): nn.MultiheadAttention and
// nn.TransformerEncoderLayer (gelu, post-LN, eps 1e-12) forward ≤ 1e-5 and gradients ≤ 1e-4 relative
// (to the tensor's largest magnitude), weights loaded by state-dict key through Checkpoint.Load; and
// three torch.optim.Adam / AdamW steps.
using NanoMbpo.IO;
using NanoMbpo.NN;
using NanoMbpo.Optim;
using NanoMbpo.Tests.IO;
using Xunit;

namespace NanoMbpo.Tests.NN;

public class TorchParityTests
{
    static void Close(SafeTensorEntry expected, Tensor actual, double rtol)
    {
        var e = expected.ReadFloat64(allowNarrowing: true);
        Assert.Equal(expected.ShapeArray(), actual.Shape);
        double scale = e.Max(Math.Abs), worst = 0;
        for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(actual.GetFlat(i) - e[i]) / scale);
        Assert.True(worst <= rtol, $"{expected.Name}: worst error {worst:E2} of max |value| {scale:E2} > {rtol:E0}");
    }

    static Tensor I32Mask(SafeTensorEntry e) => Tensor.FromArray(e.ReadInt64().Select(v => (int)v).ToArray(), e.ShapeArray());

    [Fact]
    public void MultiheadAttentionMatchesTorch() =>
        CheckModule("multihead_attention", "key_padding_mask",
            ps => new MultiHeadAttention(ps, "", 8, 2, TransformerNaming.Torch, null) is var m ? (x, mask) => m.Forward(x, mask) : null!);

    [Fact]
    public void TransformerEncoderLayerMatchesTorch() =>
        CheckModule("transformer_encoder_layer", "src_key_padding_mask", ps =>
        {
            var o = new TransformerOptions(8, 2, 16) { Dropout = 0, Activation = Activation.Gelu, LayerNormEps = 1e-12 };
            var m = new TransformerEncoderLayer(ps, "", o, new Rng(1));
            return (x, mask) => m.Forward(x, mask);
        });

    static void CheckModule(string fixture, string maskKey, Func<ParameterStore, Func<Tensor, Tensor, Tensor>> build)
    {
        var path = Path.Combine(Fixtures.Directory, fixture + ".safetensors");
        using var f = Fixtures.Load(fixture);
        var ps = new ParameterStore(DType.F32);
        var forward = build(ps);
        Checkpoint.Load(ps, path, new LoadOptions(Strict: false));
        var x = Tensor.FromArray(f["x"].ReadFloat32(), f["x"].ShapeArray()).RequireGrad();
        var outT = forward(x, I32Mask(f[maskKey]));
        Close(f["out"], outT, 1e-5);
        outT.Backward(Tensor.FromArray(f["r"].ReadFloat32(), f["r"].ShapeArray()));
        Close(f["dx"], x.Grad!, 1e-4);
        foreach (var p in ps.Parameters) Close(f["grad." + p.Name], p.Grad!, 1e-4);
    }

    [Theory]
    [InlineData("adam", false, 0.0)]
    [InlineData("adamw", true, 0.1)]
    public void AdamStepsMatchTorch(string fixture, bool decoupled, double wd)
    {
        using var f = Fixtures.Load(fixture);
        var ps = new ParameterStore(DType.F32);
        var p = ps.Create("p", 3, 4);
        f["param0"].ReadFloat32(p.F32);
        Adam opt = decoupled ? new AdamW(ps, 0.01, 0.9, 0.999, 1e-8, wd) : new Adam(ps, 0.01, 0.9, 0.999, 1e-8, wd);
        for (int t = 1; t <= 3; t++)
        {
            f[$"grad{t}"].ReadFloat32(p.Grad!.F32);
            opt.Step();
            Close(f[$"param{t}"], p, 1e-5);
        }
        Close(f["exp_avg3"], Tensor.FromArray(opt.ExpAvg<float>()[..12].ToArray(), 3, 4), 1e-5);
        Close(f["exp_avg_sq3"], Tensor.FromArray(opt.ExpAvgSq<float>()[..12].ToArray(), 3, 4), 1e-5);
    }
}
