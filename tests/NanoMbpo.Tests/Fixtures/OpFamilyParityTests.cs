// PyTorch parity of the small ops that share a fixture file (tests/fixtures/elementwise_ops and
// shape_index_ops, written by make_fixtures.py): every entry prefix is one op, with its inputs, torch's
// output, the r of loss = sum(out · r) and torch's input gradients. Same tolerances and error metric
// as OpParityTests (forward ≤ 1e-5, gradients ≤ 1e-4 relative, in float32; see Parity.cs). Each case runs
// on the CPU and again on ILGPU's CPU accelerator (the GPU kernels' code), both against torch.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.FixtureParity"
using Xunit;
using Xunit.Abstractions;
using static NanoMbpo.Tests.FixtureParity.Parity;

namespace NanoMbpo.Tests.FixtureParity;

public sealed class OpFamilyParityTests(ITestOutputHelper log)
{
    /// <summary>How an input is loaded: a float32 leaf that gets a gradient, a float32 constant, or int ids.</summary>
    public enum In { Grad, Const, Int }

    /// <summary>Entry prefix → its inputs (fixture names, in argument order) and our op.</summary>
    static readonly Dictionary<string, ((string Name, In Kind)[] Inputs, Func<Tensor[], Tensor> Op)> Elementwise = new()
    {
        ["relu"] = (X, t => F.Relu(t[0])),
        ["tanh"] = (X, t => F.Tanh(t[0])),
        ["sigmoid"] = (X, t => F.Sigmoid(t[0])),
        ["silu"] = (X, t => F.Silu(t[0])),
        ["softplus"] = (X, t => F.Softplus(t[0])),
        ["exp"] = (X, t => F.Exp(t[0])),
        ["abs"] = (X, t => F.Abs(t[0])),
        ["pow3"] = (X, t => F.Pow(t[0], 3)),
        ["clamp"] = (X, t => F.Clamp(t[0], -0.5, 0.5)),
        ["log"] = (X, t => F.Log(t[0])),
        ["sqrt"] = (X, t => F.Sqrt(t[0])),
        ["pow_half"] = (X, t => F.Pow(t[0], 0.5)),
        ["add_row"] = (AB, t => F.Add(t[0], t[1])),         // a (3,5) + b (5)
        ["sub_col"] = (AB, t => F.Sub(t[0], t[1])),         // a (3,5) − b (3,1)
        ["mul_col"] = (AB, t => F.Mul(t[0], t[1])),
        ["div_row"] = (AB, t => F.Div(t[0], t[1])),
        ["minimum"] = (AB, t => F.Minimum(t[0], t[1])),
        ["maximum_row"] = (AB, t => F.Maximum(t[0], t[1])),
    };

    static readonly Dictionary<string, ((string Name, In Kind)[] Inputs, Func<Tensor[], Tensor> Op)> ShapeIndex = new()
    {
        ["sum_axis1"] = (X, t => F.Sum(t[0], 1)),           // (2,3,4) → (2,4)
        ["mean_axis1"] = (X, t => F.Mean(t[0], 1)),
        ["max_axis1"] = (X, t => F.Max(t[0], 1)),
        ["embedding"] = ([("weight", In.Grad), ("ids", In.Int)], t => F.Embedding(t[0], t[1])),   // (6,4)[(2,3)] → (2,3,4)
        ["gather"] = ([("x", In.Grad), ("index", In.Int)], t => F.Gather(t[0], t[1])),              // (4,5)[(4)] → (4)
        ["masked_fill"] = ([("x", In.Grad), ("mask", In.Int)], t => F.MaskedFill(t[0], t[1], -1.5)),
        ["concat"] = (AB, t => F.Concat([t[0], t[1]], 1)),  // (2,3) ‖ (2,2) → (2,5)
        ["slice"] = (X, t => F.Slice(t[0], 1, 1, 2)),       // x[:, 1:3]
        ["permute"] = (X, t => F.Permute(t[0], 0, 2, 1)),
        ["reshape"] = (X, t => F.Reshape(t[0], 6, 4)),
        ["mse"] = ([("pred", In.Grad), ("target", In.Const)], t => F.MseLoss(t[0], t[1])),
    };

    static (string, In)[] X => [("x", In.Grad)];
    static (string, In)[] AB => [("a", In.Grad), ("b", In.Grad)];

    public static TheoryData<string> ElementwiseKeys() => new(Elementwise.Keys);
    public static TheoryData<string> ShapeIndexKeys() => new(ShapeIndex.Keys);

    [Theory]
    [MemberData(nameof(ElementwiseKeys))]
    public void ElementwiseOpMatchesTorch(string key) => Check("elementwise_ops", key, Elementwise[key]);

    [Theory]
    [MemberData(nameof(ShapeIndexKeys))]
    public void ShapeOrIndexOpMatchesTorch(string key) => Check("shape_index_ops", key, ShapeIndex[key]);

    /// <summary>The same torch references for the ILGPU kernels: inputs moved to ILGPU's CPU accelerator (which
    /// runs the CUDA kernels' code), forward and backward there, results copied back and compared.</summary>
    [Theory]
    [MemberData(nameof(ElementwiseKeys))]
    public void ElementwiseOpMatchesTorchOnIlgpuCpu(string key) => Check("elementwise_ops", key, Elementwise[key], Device.IlgpuCpu);

    [Theory]
    [MemberData(nameof(ShapeIndexKeys))]
    public void ShapeOrIndexOpMatchesTorchOnIlgpuCpu(string key) => Check("shape_index_ops", key, ShapeIndex[key], Device.IlgpuCpu);

    /// <summary>Every entry prefix in the two files has a case here, so a new torch entry cannot go unchecked.</summary>
    [Fact]
    public void EveryEntryIsChecked()
    {
        foreach (var (file, cases) in new[] { ("elementwise_ops", Elementwise), ("shape_index_ops", ShapeIndex) })
        {
            using var f = Load(file);
            var prefixes = f.Entries.Select(e => e.Name[..e.Name.IndexOf('.')]).Distinct().ToArray();
            Assert.Equal(prefixes.Order(StringComparer.Ordinal), cases.Keys.Order(StringComparer.Ordinal));
        }
    }

    void Check(string file, string key, ((string Name, In Kind)[] Inputs, Func<Tensor[], Tensor> Op) c, Device? device = null)
    {
        using var f = Load(file);
        var dev = device ?? Device.Cpu;
        var t = c.Inputs.Select(i =>
        {
            var x = i.Kind == In.Int ? I32(f, $"{key}.{i.Name}") : F32(f, $"{key}.{i.Name}");
            if (!dev.IsCpu) x = x.To(dev);
            return i.Kind == In.Grad ? x.RequireGrad() : x;
        }).ToArray();
        var y = c.Op(t);
        Assert.Equal(dev, y.Device);
        AssertClose(f, $"{key}.out", y.To(Device.Cpu), ForwardTol, log);
        y.Backward(dev.IsCpu ? F32(f, $"{key}.r") : F32(f, $"{key}.r").To(dev));
        for (int i = 0; i < t.Length; i++)
            if (c.Inputs[i].Kind == In.Grad) AssertClose(f, $"{key}.d{c.Inputs[i].Name}", t[i].Grad?.To(Device.Cpu), GradTol, log);
    }
}
