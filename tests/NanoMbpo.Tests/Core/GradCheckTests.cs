// Runs the whole op/module catalog through the float64 finite-difference check, one test per case,
// plus checks that the harness itself catches a wrong backward.
using Xunit;

namespace NanoMbpo.Tests.Core;

public class GradCheckTests
{
    public static TheoryData<string> CaseNames()
    {
        var d = new TheoryData<string>();
        foreach (var c in GradCatalog.All()) d.Add(c.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void CatalogCasePasses(string name)
    {
        var c = GradCatalog.All().Single(x => x.Name == name);
        var r = GradCheck.Run(c);
        Assert.True(r.Passed, $"{name} {r.Shapes}: {r.Error ?? $"worst ratio {r.WorstRatio:G3}, max abs {r.MaxAbsError:G3}"}");
        Assert.True(r.Elements > 0);
    }

    [Fact]
    public void HarnessCatchesAWrongBackward()
    {
        // y = x² with a backward that returns x instead of 2x: must fail.
        var bad = new GradCase("bad_square", "(3)", (rng, dt) =>
        {
            var x = Tensor.Uniform(rng, [3], 0.5, 1.0, dt).RequireGrad();
            return new GradProblem([x], () =>
            {
                var y = Tensor.Zeros(x.Shape, dt);
                for (int i = 0; i < 3; i++) y.F64[i] = x.F64[i] * x.F64[i];
                return Autograd.Record(y, "bad", dy => { for (int i = 0; i < 3; i++) x.GradData<double>()[i] += dy.F64[i] * x.F64[i]; }, x);
            });
        });
        Assert.False(GradCheck.Run(bad).Passed);
    }

    [Fact]
    public void CatalogCoversMatMulAndLinear()
    {
        var names = GradCatalog.All().Select(c => c.Name).ToHashSet();
        Assert.Contains("matmul", names);
        Assert.Contains("linear", names);
    }
}
