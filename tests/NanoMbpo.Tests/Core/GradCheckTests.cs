// Runs the whole op/module catalog through the float64 finite-difference check and the accumulation
// check (pre-filled gradients, a second branch per leaf), one test per case each, plus checks that
// both harnesses catch a wrong backward (a wrong factor; an overwrite instead of an add).
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

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void CatalogCaseAccumulates(string name)
    {
        var c = GradCatalog.All().Single(x => x.Name == name);
        var r = GradCheck.RunAccumulation(c);
        Assert.True(r.Passed, $"{name} {r.Shapes}: {r.Error ?? $"gradient not accumulated: worst ratio {r.WorstRatio:G3}, max abs {r.MaxAbsError:G3}"}");
        Assert.True(r.Elements > 0);
    }

    static GradCase Square(bool accumulate) => new("square", "(3)", (rng, dt) =>
    {
        var x = Tensor.Uniform(rng, [3], 0.5, 1.0, dt).RequireGrad();
        return new GradProblem([x], () =>
        {
            var y = Tensor.Zeros(x.Shape, dt);
            for (int i = 0; i < 3; i++) y.F64[i] = x.F64[i] * x.F64[i];
            return Autograd.Record(y, "square", dy =>
            {
                var g = x.GradData<double>();
                for (int i = 0; i < 3; i++) g[i] = (accumulate ? g[i] : 0) + 2 * dy.F64[i] * x.F64[i];
            }, x);
        });
    });

    [Fact]
    public void AccumulationHarnessCatchesAnOverwritingBackward()
    {
        // The overwriting backward is right in isolation (the finite-difference check passes) ...
        Assert.True(GradCheck.Run(Square(accumulate: false)).Passed);
        Assert.True(GradCheck.RunAccumulation(Square(accumulate: true)).Passed);
        // ... and only the accumulation check sees it drop the gradient that was already there.
        var r = GradCheck.RunAccumulation(Square(accumulate: false));
        Assert.False(r.Passed);
        Assert.True(r.MaxAbsError > 0.1, $"max abs {r.MaxAbsError}");
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
