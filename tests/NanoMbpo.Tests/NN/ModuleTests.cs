// nn modules: exact state-dict names (BERT and torch layouts), train/eval propagation, forward values
// against plain double loops, the packed in_proj views, determinism and bad-argument errors.
using NanoMbpo.NN;
using Xunit;

namespace NanoMbpo.Tests.NN;

public class ModuleTests
{
    [Fact]
    public void BertLayerHasHuggingFaceKeys()
    {
        var ps = new ParameterStore();
        var o = new TransformerOptions(8, 2, 16) { Naming = TransformerNaming.Bert, LayerNormEps = 1e-12 };
        _ = new TransformerEncoder(ps, "encoder.", o, 2, new Rng(1));
        var names = ps.Parameters.Select(p => p.Name).ToHashSet();
        string[] expected =
        [
            "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.self.query.bias",
            "encoder.layer.0.attention.self.key.weight", "encoder.layer.0.attention.self.value.bias",
            "encoder.layer.0.attention.output.dense.weight", "encoder.layer.0.attention.output.LayerNorm.weight",
            "encoder.layer.0.attention.output.LayerNorm.bias", "encoder.layer.0.intermediate.dense.weight",
            "encoder.layer.0.intermediate.dense.bias", "encoder.layer.0.output.dense.weight", "encoder.layer.0.output.dense.bias",
            "encoder.layer.0.output.LayerNorm.weight", "encoder.layer.1.output.LayerNorm.bias",
        ];
        foreach (var e in expected) Assert.Contains(e, names);
        Assert.Equal(2 * 16, names.Count);   // 16 tensors per BERT layer
        Assert.Equal([16, 8], ps["encoder.layer.0.intermediate.dense.weight"].Shape);
    }

    [Fact]
    public void TorchLayerHasTorchKeysAndShapes()
    {
        var ps = new ParameterStore();
        _ = new TransformerEncoder(ps, "", new TransformerOptions(8, 2, 16), 1, new Rng(1), finalNorm: true);
        var shapes = ps.Parameters.ToDictionary(p => p.Name!, p => ShapeUtil.Format(p.Shape));
        Assert.Equal("(24,8)", shapes["layers.0.self_attn.in_proj_weight"]);
        Assert.Equal("(24)", shapes["layers.0.self_attn.in_proj_bias"]);
        Assert.Equal("(8,8)", shapes["layers.0.self_attn.out_proj.weight"]);
        Assert.Equal("(16,8)", shapes["layers.0.linear1.weight"]);
        Assert.Equal("(8,16)", shapes["layers.0.linear2.weight"]);
        Assert.Equal("(8)", shapes["layers.0.norm1.weight"]);
        Assert.Equal("(8)", shapes["layers.0.norm2.bias"]);
        Assert.Equal("(8)", shapes["norm.weight"]);
        Assert.Equal(14, shapes.Count);
    }

    [Fact]
    public void MlpUsesSequentialIndices()
    {
        var ps = new ParameterStore();
        var m = new Mlp(ps, "q1.", [3, 5, 5, 2], Activation.Relu, new Rng(2));
        Assert.Equal(["q1.0.weight", "q1.0.bias", "q1.2.weight", "q1.2.bias", "q1.4.weight", "q1.4.bias"], ps.Parameters.Select(p => p.Name!));
        Assert.Equal(3 * 5 + 5 + 5 * 5 + 5 + 5 * 2 + 2, m.ParameterCount());
    }

    [Fact]
    public void TrainEvalPropagatesToChildren()
    {
        var ps = new ParameterStore();
        var enc = new TransformerEncoder(ps, "", new TransformerOptions(4, 2, 8), 2, new Rng(3));
        Assert.All(enc.Modules(), m => Assert.True(m.Training));
        enc.Eval();
        Assert.All(enc.Modules(), m => Assert.False(m.Training));
        // dropout1, dropout2 and the activation dropout of each of the 2 torch-layout layers.
        Assert.Equal(6, enc.Modules().OfType<Dropout>().Count());
        Assert.Equal(2, enc.Modules().OfType<TransformerEncoderLayer>().Count());
    }

    [Fact]
    public void EvalModeIsDeterministicAndDropoutChangesTrainingOutput()
    {
        var ps = new ParameterStore();
        var enc = new TransformerEncoder(ps, "", new TransformerOptions(4, 2, 8) { Dropout = 0.5 }, 1, new Rng(3));
        var x = Tensor.Randn(new Rng(4), [2, 3, 4]);
        enc.Eval();
        var a = enc.Forward(x).ToFloatArray();
        var b = enc.Forward(x).ToFloatArray();
        Assert.Equal(a, b);
        enc.Train();
        var c = enc.Forward(x).ToFloatArray();
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void LinearMatchesPlainLoop()
    {
        var ps = new ParameterStore(DType.F64);
        var l = new Linear(ps, "", 3, 2, new Rng(5));
        var x = Tensor.Randn(new Rng(6), [4, 3], dtype: DType.F64);
        var y = l.Forward(x);
        for (int r = 0; r < 4; r++)
            for (int o = 0; o < 2; o++)
            {
                double s = l.Bias!.F64[o];
                for (int i = 0; i < 3; i++) s += x.F64[r * 3 + i] * l.Weight.F64[o * 3 + i];
                Assert.Equal(s, y.F64[r * 2 + o], 12);
            }
        // torch default init bound 1/√in
        Assert.All(l.Weight.ToDoubleArray(), w => Assert.InRange(w, -1 / Math.Sqrt(3), 1 / Math.Sqrt(3)));
    }

    [Fact]
    public void PackedInProjEqualsSeparateProjections()
    {
        // The torch layout (row views of in_proj) must compute what the BERT layout computes with the
        // same q/k/v weights copied into separate tensors.
        var pt = new ParameterStore(DType.F64);
        var mt = new MultiHeadAttention(pt, "", 4, 2, TransformerNaming.Torch, new Rng(7));
        foreach (var p in pt.Parameters) NanoMbpo.NN.Init.Uniform(p, new Rng(8 + (ulong)p.Length), -0.5, 0.5);
        var pb = new ParameterStore(DType.F64);
        var mb = new MultiHeadAttention(pb, "", 4, 2, TransformerNaming.Bert, null);
        var w = pt["in_proj_weight"].F64; var bsrc = pt["in_proj_bias"].F64;
        string[] parts = ["query", "key", "value"];
        for (int i = 0; i < 3; i++)
        {
            w.Slice(i * 16, 16).CopyTo(pb[$"self.{parts[i]}.weight"].F64);
            bsrc.Slice(i * 4, 4).CopyTo(pb[$"self.{parts[i]}.bias"].F64);
        }
        pt["out_proj.weight"].F64.CopyTo(pb["output.dense.weight"].F64);
        pt["out_proj.bias"].F64.CopyTo(pb["output.dense.bias"].F64);
        var x = Tensor.Randn(new Rng(9), [2, 3, 4], dtype: DType.F64);
        var mask = Tensor.FromArray(new[] { 0, 0, 0, 0, 0, 1 }, 2, 3);
        var yt = mt.Forward(x, mask).ToDoubleArray();
        var yb = mb.Forward(x, mask).ToDoubleArray();
        for (int i = 0; i < yt.Length; i++) Assert.Equal(yb[i], yt[i], 12);
        // Gradients through the row views land in the flat gradient buffer, each block equal to the
        // gradient of the separate BERT projection it mirrors.
        F.SumAll(mt.Forward(x, mask)).Backward();
        F.SumAll(mb.Forward(x, mask)).Backward();
        var gw = pt["in_proj_weight"].Grad!.ToDoubleArray(); var gb = pt["in_proj_bias"].Grad!.ToDoubleArray();
        for (int i = 0; i < 3; i++)
        {
            var sw = pb[$"self.{parts[i]}.weight"].Grad!.ToDoubleArray(); var sb = pb[$"self.{parts[i]}.bias"].Grad!.ToDoubleArray();
            for (int j = 0; j < 16; j++) Assert.Equal(sw[j], gw[i * 16 + j], 12);
            for (int j = 0; j < 4; j++) Assert.Equal(sb[j], gb[i * 4 + j], 12);
        }
        Assert.Contains(gw, g => Math.Abs(g) > 1e-3);   // not vacuously equal
        var go = pt["out_proj.weight"].Grad!.ToDoubleArray(); var bo = pb["output.dense.weight"].Grad!.ToDoubleArray();
        for (int j = 0; j < go.Length; j++) Assert.Equal(bo[j], go[j], 12);
    }

    [Fact]
    public void PaddedKeysDoNotInfluenceOutput()
    {
        var ps = new ParameterStore();
        var m = new MultiHeadAttention(ps, "", 4, 2, TransformerNaming.Bert, new Rng(10));
        var x = Tensor.Randn(new Rng(11), [1, 3, 4]);
        var mask = Tensor.FromArray(new[] { 0, 0, 1 }, 1, 3);
        var y1 = m.Forward(x, mask).ToFloatArray();
        x.F32[8] += 5f;   // change the padded token
        var y2 = m.Forward(x, mask).ToFloatArray();
        for (int i = 0; i < 8; i++) Assert.Equal(y1[i], y2[i], 5);
    }

    [Fact]
    public void SameSeedSameModel()
    {
        float[] Build() { var ps = new ParameterStore(); _ = new Mlp(ps, "", [4, 8, 2], Activation.Tanh, new Rng(12)); return ps.Data<float>().ToArray(); }
        Assert.Equal(Build(), Build());
    }

    [Fact]
    public void BadArgumentsNameTheModule()
    {
        var ps = new ParameterStore();
        var e = Assert.Throws<ArgumentException>(() => new MultiHeadAttention(ps, "attn.", 6, 4, TransformerNaming.Torch, null));
        Assert.Contains("attn.", e.Message);
        Assert.Throws<ArgumentException>(() => new Mlp(ps, "m.", [3], Activation.Relu, null));
        var m = new MultiHeadAttention(ps, "a2.", 4, 2, TransformerNaming.Torch, null);
        var e2 = Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(2, 3, 5)));
        Assert.Contains("(2,3,5)", e2.Message);
        Assert.Throws<ArgumentException>(() => Activations.Parse("relu6"));
        Assert.Equal(Activation.Gelu, Activations.Parse("GELU"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(ps, 1.0, new Rng(1)));
    }
}
