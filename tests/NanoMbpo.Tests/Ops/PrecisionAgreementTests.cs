// float32 vs float64 agreement for every catalog case of the elementwise, reduction, softmax and
// layer-norm ops: the same seeded inputs built in both dtypes must give the same outputs and
// gradients within float32 accuracy. Catches float32-only fast paths that drift from the checked
// float64 code.
using Xunit;

namespace NanoMbpo.Tests.Ops;

public class PrecisionAgreementTests
{
    static readonly string[] Prefixes =
    [
        "add", "sub", "neg", "rsub", "mul", "div", "relu", "gelu", "tanh", "sigmoid", "silu", "softplus", "exp", "log",
        "sqrt", "abs", "pow", "clamp", "minimum", "maximum", "sum_axis", "mean", "max_axis", "softmax", "layer_norm",
    ];

    public static TheoryData<string> CaseNames()
    {
        var d = new TheoryData<string>();
        foreach (var c in GradCatalog.All())
            if (Prefixes.Any(p => c.Name.StartsWith(p, StringComparison.Ordinal))) d.Add(c.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Float32MatchesFloat64(string name)
    {
        var c = GradCatalog.All().Single(x => x.Name == name);
        var p64 = c.Build(new Rng(7), DType.F64); var p32 = c.Build(new Rng(7), DType.F32);
        var y64 = p64.Forward(); var y32 = p32.Forward();
        Assert.Equal(DType.F32, y32.DType);
        double scale = y64.ToDoubleArray().Select(Math.Abs).DefaultIfEmpty(0).Max();
        OpsTestUtil.Close(y64.ToDoubleArray(), y32, 1e-5 * (1 + scale), 1e-5, $"{name} forward");
        var g = Tensor.Uniform(new Rng(8), y64.Shape, -1, 1, DType.F64);
        y64.Backward(g); y32.Backward(g.To(DType.F32));
        for (int i = 0; i < p64.Checked.Length; i++)
        {
            var g64 = p64.Checked[i].Grad!.ToDoubleArray();
            double gs = g64.Select(Math.Abs).DefaultIfEmpty(0).Max();
            OpsTestUtil.Close(g64, p32.Checked[i].Grad!, 1e-5 * (1 + gs), 1e-4, $"{name} grad of input {i}");
        }
    }
}
