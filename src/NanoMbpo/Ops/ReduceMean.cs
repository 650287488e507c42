// Mean over one axis (F.Mean) and over all elements (F.MeanAll): sums scaled by 1/N, sharing the
// loops of ReduceSum.cs. Backward spreads dy/N along the axis. Gradient check: catalog "mean*";
// tests: tests/NanoMbpo.Tests/Ops/ReduceTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>Mean of x along <paramref name="axis"/> (an empty axis gives NaN, as torch).</summary>
    public static Tensor Mean(Tensor x, int axis, bool keepDim = false)
    {
        var s = AxisSplit.Of(x, axis, "mean");
        if (!x.Device.IsCpu) return ReduceSumOnDevice(x, s, keepDim, true, "mean_axis");
        var y = Tensor.Zeros(s.ReducedShape(x.Shape, keepDim), x.DType);
        double inv = 1.0 / s.N;
        if (x.DType == DType.F32) ReduceSumForward<float>(s, x.F32, y.F32, (float)inv);
        else ReduceSumForward<double>(s, x.F64, y.F64, inv);
        return Autograd.Record(y, "mean_axis", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) ReduceSumBackward<float>(s, dy.F32, x.GradData<float>(), (float)inv);
            else ReduceSumBackward<double>(s, dy.F64, x.GradData<double>(), inv);
        }, x);
    }

    /// <summary>Mean of all elements → shape ().</summary>
    public static Tensor MeanAll(Tensor x)
    {
        OpCheck.Float(x, "mean", "x");
        if (!x.Device.IsCpu) return SumAllOnDevice(x, true, "mean");
        var y = Tensor.Zeros([], x.DType);
        double inv = 1.0 / x.Length;
        if (x.DType == DType.F32) y.F32[0] = (float)(Cpu.Vec.SumDouble<float>(x.F32) * inv);
        else y.F64[0] = Cpu.Vec.SumDouble<double>(x.F64) * inv;
        return Autograd.Record(y, "mean", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) { var d = x.GradData<float>(); TensorPrimitives.Add(d, (float)(dy.F32[0] * inv), d); }
            else { var d = x.GradData<double>(); TensorPrimitives.Add(d, dy.F64[0] * inv, d); }
        }, x);
    }

    [GradCases(Op = "mean", Cpu = nameof(Mean), Tolerance = ToleranceClass.Accumulating,
        Kernels = "ScalarKernels ReduceKernels")]
    static IEnumerable<GradCase> ReduceMeanCases()
    {
        yield return GradCase.Simple("mean_axis_last", x => Mean(x[0], -1), [3, 4]);
        yield return GradCase.Simple("mean_axis_middle_keep", x => Mean(x[0], 1, true), [2, 3, 4]);
        yield return GradCase.Simple("mean_axis_first", x => Mean(x[0], 0), [3, 2, 2]);
        yield return GradCase.Simple("mean_all", x => MeanAll(x[0]), [3, 4]);
    }
}
