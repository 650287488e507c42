// Proves the parity metric of Parity.cs can fail: a reference perturbed by just over the tolerance (relative
// to the tensor's largest magnitude) is rejected, NaN is rejected, and shape mismatches are rejected.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.FixtureParity"
using Xunit;
using Xunit.Sdk;
using static NanoMbpo.Tests.FixtureParity.Parity;

namespace NanoMbpo.Tests.FixtureParity;

public sealed class ParityMetricTests
{
    [Theory]
    [InlineData(ForwardTol)]
    [InlineData(GradTol)]
    public void PerturbationJustOverToleranceFails(double tol)
    {
        using var f = Load("matmul");
        var expected = f["out"].ReadFloat64();
        double scale = expected.Max(Math.Abs);
        // Perturb the SMALLEST-magnitude element, the hardest one for a max-norm metric to notice.
        int i = Array.IndexOf(expected, expected.MinBy(Math.Abs));
        var bad = (double[])expected.Clone();
        bad[i] += 1.5 * tol * scale;
        Assert.Throws<FailException>(() => AssertClose("perturbed", bad, expected, tol, null));
        var ok = (double[])expected.Clone();
        ok[i] += 0.5 * tol * scale;
        Assert.True(AssertClose("within", ok, expected, tol, null) <= tol);
    }

    [Fact]
    public void NaNFails()
    {
        var expected = new[] { 1.0, 2.0 };
        Assert.Throws<FailException>(() => AssertClose("nan", [1.0, double.NaN], expected, GradTol, null));
    }

    [Fact]
    public void ShapeMismatchFails()
    {
        using var f = Load("matmul");
        var transposed = Tensor.Zeros(5, 3);   // out is (3,5)
        Assert.ThrowsAny<XunitException>(() => AssertClose(f, "out", transposed, ForwardTol, null));
    }

    [Fact]
    public void AWrongOpIsCaught()
    {
        // a @ b compared against matmul_nt's reference (a @ bᵀ with another b) must fail: the fixtures discriminate.
        using var f = Load("matmul");
        using var nt = Load("matmul_nt");
        var y = F.MatMul(F32(f, "a"), F32(f, "b"));
        Assert.Throws<FailException>(() => AssertClose(nt, "out", y, ForwardTol, null));
    }
}
