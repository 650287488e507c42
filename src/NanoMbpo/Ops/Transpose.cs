// Transpose: swaps two axes — a Permute with a two-element swap (same fast paths and backward).
// Gradient check: catalog "transpose*"; tests: tests/NanoMbpo.Tests/Ops/ShapeOpsBTests.cs.
namespace NanoMbpo;

public static partial class F
{
    /// <summary>x with axes <paramref name="a"/> and <paramref name="b"/> swapped (negative axes allowed).</summary>
    public static Tensor Transpose(Tensor x, int a, int b)
    {
        if (x.Rank == 0) throw new ArgumentException($"transpose: x{x.ShapeString} has no axes to swap.", nameof(x));
        int aa = a < 0 ? a + x.Rank : a, bb = b < 0 ? b + x.Rank : b;
        if (aa < 0 || aa >= x.Rank) throw new ArgumentOutOfRangeException(nameof(a), $"transpose: axis {a} is out of range for x{x.ShapeString}.");
        if (bb < 0 || bb >= x.Rank) throw new ArgumentOutOfRangeException(nameof(b), $"transpose: axis {b} is out of range for x{x.ShapeString}.");
        var perm = new int[x.Rank];
        for (int i = 0; i < perm.Length; i++) perm[i] = i;
        (perm[aa], perm[bb]) = (perm[bb], perm[aa]);
        return Permute(x, perm);
    }

    [GradCases(Op = "transpose", Cpu = nameof(Transpose), Tolerance = ToleranceClass.Pointwise, Kernels = "PermuteKernels")]
    static IEnumerable<GradCase> TransposeCases()
    {
        yield return GradCase.Simple("transpose_2d", x => Transpose(x[0], 0, 1), [3, 5]);
        yield return GradCase.Simple("transpose_neg_axes", x => Transpose(x[0], -3, -1), [2, 3, 4]);
    }
}
