// float32 vs float64 agreement for every catalog case (ops, losses and nn_* modules): the same seeded
// inputs built in both dtypes must give the same outputs and gradients within float32 accuracy, at
// the case's unit shapes (vector tails, single chunks) and again at its large size (GradCase.BuildLarge:
// the largest input ≥ 70,000 elements, above 2·Elementwise.Grain and the SGEMM packing and per-thread
// thresholds, so the SIMD bodies and multi-threaded splits run). Catches float32-only fast paths that
// drift from the float64 code the gradient check verifies. Error metric: DeviceParity.MaxRelError;
// tolerance: from the op descriptor's class (5e-5 pointwise, 5e-4 accumulating; see Agree).
using Xunit;
using Xunit.Abstractions;

namespace NanoMbpo.Tests.Ops;

public class PrecisionAgreementTests(ITestOutputHelper output)
{
    public static TheoryData<string> CaseNames()
    {
        var d = new TheoryData<string>();
        foreach (var c in GradCatalog.All()) d.Add(c.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Float32MatchesFloat64_UnitAndLarge(string name)
    {
        var c = GradCatalog.All().Single(x => x.Name == name);
        Agree(c, c.Build(new Rng(7), DType.F64), c.Build(new Rng(7), DType.F32), $"{name} unit");
        Agree(c, c.BuildLarge(new Rng(7), DType.F64), c.BuildLarge(new Rng(7), DType.F32), $"{name} large (K={c.LargeSize.K})");
    }

    /// <summary>Output error against the output's own scale; gradient errors against the largest
    /// gradient of the problem (a gradient that is zero in exact arithmetic, such as attention's key
    /// bias, is float32 noise of the size of the terms that cancel). A gradient summed over broadcast
    /// axes (fewer elements than the output) is an accumulating result whatever the op.</summary>
    void Agree(GradCase c, GradProblem p64, GradProblem p32, string what)
    {
        double tol = PrecisionTolerance(c.Op.Tolerance);
        var y64 = p64.Forward(); var y32 = p32.Forward();
        Assert.Equal(DType.F32, y32.DType);
        double e = DeviceParity.MaxRelError(y64.ToDoubleArray(), y32.ToFloatArray());
        output.WriteLine($"{what} forward {e:E2}");
        Assert.True(e <= tol, $"{what} forward: max rel error {e:E2} > {tol:E0}");
        var g = Tensor.Uniform(new Rng(8), y64.Shape, -1, 1, DType.F64);
        y64.Backward(g); y32.Backward(g.To(DType.F32));
        double scale = p64.Checked.Select(t => t.Grad?.ToDoubleArray().Select(Math.Abs).DefaultIfEmpty(0).Max() ?? 0).DefaultIfEmpty(0).Max();
        double floor = DeviceParity.Floor * Math.Max(1, scale);
        for (int i = 0; i < p64.Checked.Length; i++)
        {
            var g64 = p64.Checked[i].Grad; var g32 = p32.Checked[i].Grad;
            Assert.True((g64 is null) == (g32 is null), $"{what}: gradient of input {i} exists in one dtype only");
            if (g64 is null) continue;
            double gtol = p64.Checked[i].Length < y64.Length ? PrecisionTolerance(ToleranceClass.Accumulating) : tol;
            double ge = DeviceParity.MaxRelError(g64.ToDoubleArray(), g32!.ToFloatArray(), floor);
            output.WriteLine($"{what} grad {i} {ge:E2}");
            Assert.True(ge <= gtol, $"{what} grad of input {i}: max rel error {ge:E2} > {gtol:E0}");
        }
    }

    /// <summary>float32 against float64 over up to ~10⁵ elements: a few times the float32-vs-float32
    /// parity tolerance, since the float64 side has no rounding of its own to share.</summary>
    static double PrecisionTolerance(ToleranceClass t) => t == ToleranceClass.Pointwise ? 5e-5 : 5e-4;

    /// <summary>The metric is not vacuous: a float32 result one part in 10⁴ off at the largest element fails the pointwise class.</summary>
    [Fact]
    public void MetricCatchesADriftAboveTheTolerance()
    {
        double[] e = [1.0, -2.0, 0.5, 4.0];
        Assert.Equal(0.0, DeviceParity.MaxRelError(e, [1f, -2f, 0.5f, 4f]));
        Assert.True(DeviceParity.MaxRelError(e, [1f, -2f, 0.5f, 4.0004f]) > OpDescriptor.PointwiseParityTolerance);
        Assert.Equal(double.PositiveInfinity, DeviceParity.MaxRelError(e, [1f, -2f, float.NaN, 4f]));
    }
}
