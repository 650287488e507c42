// The op descriptors ([GradCases(...)] arguments, OpDescriptor.cs) are complete and true: every op
// names its CPU entry point, a tolerance class and either existing kernel classes or why it has none;
// every kernel class an op names is one the PTX catalog compiles; every case has a sized builder whose
// declared base shapes are real input shapes, and its large build reaches GradCase.LargeElements
// in an input or the output.
using NanoMbpo.Kernels;
using Xunit;

namespace NanoMbpo.Tests.Core;

public class CatalogDescriptorTests
{
    [Fact]
    public void EveryDescriptorIsComplete()
    {
        var problems = GradCatalog.Ops().SelectMany(o => o.Problems()).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // Op names are unique: one descriptor per op.
        var dup = GradCatalog.Ops().GroupBy(o => o.Op).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(dup.Count == 0, "ops declared twice: " + string.Join(", ", dup));
        Assert.All(GradCatalog.All(), c => Assert.Contains(c.Op, GradCatalog.Ops()));
    }

    [Fact]
    public void DescriptorProblemsAreReported()
    {
        var ok = GradCatalog.Ops().First(o => o.Kernels.Count > 0);
        Assert.Empty(ok.Problems());
        Assert.NotEmpty((ok with { Tolerance = ToleranceClass.Unset }).Problems());
        Assert.NotEmpty((ok with { Kernels = ["NoSuchKernels"] }).Problems());
        Assert.NotEmpty((ok with { CpuOnly = "and a kernel too" }).Problems());
        Assert.NotEmpty((ok with { Kernels = [] }).Problems());
        Assert.NotEmpty((ok with { Cpu = "NoSuchMethod" }).Problems());
    }

    [Fact]
    public void EveryKernelClassAnOpNamesIsInThePtxCatalog()
    {
        var compiled = KernelCatalog.All().Select(k => k.Kernel.DeclaringType!.Name).ToHashSet();
        var missing = GradCatalog.Ops().SelectMany(o => o.Kernels.Select(k => (o.Op, k))).Where(x => !compiled.Contains(x.k)).ToList();
        Assert.True(missing.Count == 0, string.Join(", ", missing));
    }

    public static TheoryData<string> CaseNames()
    {
        var d = new TheoryData<string>();
        foreach (var c in GradCatalog.All()) d.Add(c.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EveryCaseBuildsLarge(string name)
    {
        var c = GradCatalog.All().Single(x => x.Name == name);
        Assert.NotNull(c.BuildAt);
        Assert.NotEmpty(c.BaseShapes);
        var unit = c.Build(new Rng(1), DType.F64).Checked.Select(t => ShapeUtil.Format(t.Shape)).ToHashSet();
        foreach (var s in c.BaseShapes) Assert.Contains(ShapeUtil.Format(s), unit);
        var large = c.BuildLarge(new Rng(1), DType.F32);
        int biggest = Math.Max(large.Checked.Max(t => t.Length), large.Forward().Length);
        Assert.True(biggest >= GradCase.LargeElements, $"{name}: largest input or output {biggest} < {GradCase.LargeElements} at K={c.LargeSize.K}");
        foreach (var s in c.BaseShapes)
            Assert.Contains(large.Checked, t => ShapeUtil.Same(t.Shape, c.LargeSize.Shape(s)));
    }
}
