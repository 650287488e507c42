// Sum: the sum of all elements (a scalar loss) — the reduction every loss ends with. Backward
// broadcasts dL/dsum to every element. Reductions over one axis (sum/mean/max) live in Reduce.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>Sum of all elements → shape ().</summary>
    public static Tensor SumAll(Tensor x)
    {
        OpCheck.Float(x, "sum", "x");
        if (!x.Device.IsCpu) return SumAllOnDevice(x, false, "sum");
        var y = Tensor.Zeros([], x.DType);
        if (x.DType == DType.F32) y.F32[0] = (float)Cpu.Vec.SumDouble<float>(x.F32);
        else y.F64[0] = Cpu.Vec.SumDouble<double>(x.F64);
        return Autograd.Record(y, "sum", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) AddScalar<float>(x.GradData<float>(), dy.F32[0]);
            else AddScalar<double>(x.GradData<double>(), dy.F64[0]);
        }, x);
    }

    static void AddScalar<T>(Span<T> dst, T v) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Add(dst, v, dst);

    /// <summary>Device twin of SumAll/MeanAll: one group-reduced row of all elements; backward
    /// broadcasts dy (scaled by 1/n for the mean).</summary>
    internal static Tensor SumAllOnDevice(Tensor x, bool mean, string op)
    {
        Dev.F32(op, x);
        var l = Dev.L(x);
        var y = Dev.Empty([], x.Device);
        int n = x.Length;
        if (n == 0) l.Fill(Dev.V(y), mean ? float.NaN : 0f);
        else l.SumLastAxis(Dev.V(y), Dev.V(x), 1, n, mean);
        return Autograd.Record(y, op, dy =>
        {
            if (!x.RequiresGrad || n == 0) return;
            using var s = Dev.Sink(x);
            l.SumLastAxisBackward(s.View, Dev.V(dy), 1, n, mean);
        }, x);
    }

    [GradCases(Op = "sum_all", Cpu = nameof(SumAll), Tolerance = ToleranceClass.Accumulating,
        Kernels = "ReduceKernels ScalarKernels")]
    static IEnumerable<GradCase> SumCases()
    {
        yield return GradCase.Simple("sum_all", x => SumAll(x[0]), [3, 4]);
    }
}
