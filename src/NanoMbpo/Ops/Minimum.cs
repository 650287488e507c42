// Minimum: elementwise min(a, b) with broadcasting (Broadcast.cs) — the twin-critic min in SAC.
// NaN propagates (TensorPrimitives.Min, as torch.minimum). Backward as torch: the gradient goes to
// the smaller operand, split in halves on ties, summed over broadcast dims.
// Gradient check: catalog "minimum*"; tests: tests/NanoMbpo.Tests/Ops/BinaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Minimum(Tensor a, Tensor b)
    {
        var plan = Broadcast.Plan(a, b, "minimum");
        if (Dev.OnDevice("minimum", a, b)) return Dev.Binary<Kernels.MinimumOp>(a, b, plan.OutShape, "minimum");
        var y = Tensor.Zeros(plan.OutShape, a.DType);
        if (a.DType == DType.F32) plan.Apply<float, MinOp>(a.F32, b.F32, y.F32);
        else plan.Apply<double, MinOp>(a.F64, b.F64, y.F64);
        return Autograd.Record(y, "minimum", dy =>
        {
            if (a.DType == DType.F32) MinMaxBackward<float>(plan, a, b, dy, true);
            else MinMaxBackward<double>(plan, a, b, dy, true);
        }, a, b);
    }

    /// <summary>Shared by minimum and maximum: the selected operand gets dy, ties give each dy/2.</summary>
    static void MinMaxBackward<T>(Broadcast plan, Tensor a, Tensor b, Tensor dy, bool isMin) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = plan.OutLength;
        var ea = NN.TensorArena.Scratch<T>(n); var eb = NN.TensorArena.Scratch<T>(n);
        plan.Expand<T>(a.Data<T>(), true, ea);
        plan.Expand<T>(b.Data<T>(), false, eb);
        var g = dy.Data<T>();
        var ga = NN.TensorArena.Scratch<T>(n); var gb = NN.TensorArena.Scratch<T>(n);
        Array.Clear(ga); Array.Clear(gb);
        T half = T.CreateTruncating(0.5);
        for (int i = 0; i < n; i++)
        {
            T x = ea[i], z = eb[i];
            if (x == z) { ga[i] = gb[i] = half * g[i]; }
            else if ((x < z) == isMin) ga[i] = g[i];
            else gb[i] = g[i];
        }
        if (a.RequiresGrad) plan.ReduceInto<T>(ga, true, a.GradData<T>(), T.One);
        if (b.RequiresGrad) plan.ReduceInto<T>(gb, false, b.GradData<T>(), T.One);
    }

    [GradCases(Op = "minimum", Cpu = nameof(Minimum), Tolerance = ToleranceClass.Pointwise, Kernels = "BroadcastKernels")]
    static IEnumerable<GradCase> MinimumCases()
    {
        yield return GradCase.Simple("minimum", x => Minimum(x[0], x[1]), [3, 5], [3, 5]);
        yield return GradCase.Simple("minimum_row", x => Minimum(x[0], x[1]), [2, 3, 4], [4]);
        yield return GradCase.Simple("minimum_col_rev", x => Minimum(x[0], x[1]), [4, 1], [4, 3]);
    }
}

/// <summary>Span kernel for minimum.</summary>
internal struct MinOp : IBinarySpanOp
{
    public static void VV<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Min(a, b, o);
    public static void VS<T>(ReadOnlySpan<T> a, T b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Min(a, b, o);
    public static void SV<T>(T a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Min(b, a, o);
}
