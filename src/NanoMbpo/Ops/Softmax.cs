// Softmax along an axis, stable: y = exp(x − max) / Σ exp(x − max). Backward: dx = y ⊙ (dy − Σ dy⊙y).
// The last axis (attention rows) runs contiguous rows through TensorPrimitives, rows split over
// CpuThreads; other axes combine rows of the trailing dims elementwise. The driver here also serves
// log_softmax (LogSoftmax.cs holds only its row math), as the ILGPU kernels in kernels/Softmax.cs do. Gradient check: catalog
// "softmax*"; tests: tests/NanoMbpo.Tests/Ops/SoftmaxTests.cs; benchmark: bench/NanoMbpo.Bench/SoftmaxBench.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Softmax(Tensor x, int axis = -1) => SoftmaxFamily(x, axis, log: false);

    /// <summary>The driver softmax and log_softmax share (as their kernels do): rows along the axis
    /// split over CpuThreads, one forward for both, each op's own backward (this file, LogSoftmax.cs)
    /// and a tape node that keeps only y.</summary>
    static Tensor SoftmaxFamily(Tensor x, int axis, bool log)
    {
        string op = log ? "log_softmax" : "softmax";
        var s = AxisSplit.Of(x, axis, op);
        if (!x.Device.IsCpu) return SoftmaxFamilyOnDevice(x, s, log);
        var y = Tensor.Zeros(x.Shape, x.DType);
        int grain = Math.Max(1, Elementwise.Grain / Math.Max(1, s.N * s.Inner));
        Cpu.CpuThreads.For(s.Outer, grain, (o0, o1) =>
        {
            if (x.DType == DType.F32) SoftmaxFamilyForward<float>(s, x.F32, y.F32, o0, o1, log);
            else SoftmaxFamilyForward<double>(s, x.F64, y.F64, o0, o1, log);
        });
        return Autograd.Record(y, op, dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) x.GradData<float>(); else x.GradData<double>();
            Cpu.CpuThreads.For(s.Outer, grain, (o0, o1) =>
            {
                if (x.DType == DType.F32)
                {
                    if (log) LogSoftmaxBackward<float>(s, y.F32, dy.F32, x.Grad!.F32, o0, o1);
                    else SoftmaxBackward<float>(s, y.F32, dy.F32, x.Grad!.F32, o0, o1);
                }
                else if (log) LogSoftmaxBackward<double>(s, y.F64, dy.F64, x.Grad!.F64, o0, o1);
                else SoftmaxBackward<double>(s, y.F64, dy.F64, x.Grad!.F64, o0, o1);
            });
        }, x);
    }

    /// <summary>Device twin: the row kernel over the last axis (warp/group reductions); another axis
    /// is moved last with Transpose and back, so its gradient flows through the permute kernels.</summary>
    static Tensor SoftmaxFamilyOnDevice(Tensor x, AxisSplit s, bool log)
    {
        string op = log ? "log_softmax" : "softmax";
        Dev.F32(op, x);
        if (s.Inner != 1) return Transpose(SoftmaxFamily(Transpose(x, s.Axis, -1), -1, log), s.Axis, -1);
        var l = Dev.L(x);
        var y = Dev.Empty(x.Shape, x.Device);
        if (y.Length > 0)
        {
            if (log) l.LogSoftmax(Dev.V(y), Dev.V(x), s.Outer, s.N); else l.Softmax(Dev.V(y), Dev.V(x), s.Outer, s.N);
        }
        return Autograd.Record(y, op, dy =>
        {
            if (!x.RequiresGrad || x.Length == 0) return;
            using var g = Dev.Sink(x);
            if (log) l.LogSoftmaxBackward(g.View, Dev.V(dy), Dev.V(y), s.Outer, s.N);
            else l.SoftmaxBackward(g.View, Dev.V(dy), Dev.V(y), s.Outer, s.N);
        }, x);
    }

    /// <summary>Rows along the axis: z = x − max, then softmax (eᶻ scaled by 1/Σeᶻ, exponentiated in
    /// place) or log_softmax (z − log Σeᶻ, the exponentials in a scratch row).</summary>
    static void SoftmaxFamilyForward<T>(AxisSplit s, ReadOnlySpan<T> x, Span<T> y, int o0, int o1, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner, blk = n * inner;
        if (n == 0) return;
        var tmp = log ? Cpu.ThreadScratch<T>.Get(inner == 1 ? n : inner) : [];
        var m = inner == 1 ? [] : Cpu.ThreadScratch<T>.Get(inner, 1); var sum = inner == 1 ? [] : Cpu.ThreadScratch<T>.Get(inner, 2);
        for (int o = o0; o < o1; o++)
        {
            var xb = x.Slice(o * blk, blk); var yb = y.Slice(o * blk, blk);
            if (inner == 1)
            {
                T max = TensorPrimitives.Max(xb);
                TensorPrimitives.Subtract(xb, max, yb);
                Span<T> e = log ? tmp : yb;
                TensorPrimitives.Exp(yb, e);
                T total = TensorPrimitives.Sum<T>(e);
                if (log) TensorPrimitives.Subtract(yb, T.Log(total), yb);
                else TensorPrimitives.Multiply(yb, T.One / total, yb);
                continue;
            }
            xb[..inner].CopyTo(m);
            for (int a = 1; a < n; a++) TensorPrimitives.Max(m, xb.Slice(a * inner, inner), m);
            sum.Clear();
            for (int a = 0; a < n; a++)
            {
                var yr = yb.Slice(a * inner, inner);
                TensorPrimitives.Subtract(xb.Slice(a * inner, inner), m, yr);
                Span<T> e = log ? tmp : yr;
                TensorPrimitives.Exp(yr, e);
                TensorPrimitives.Add(sum, e, sum);
            }
            if (log) TensorPrimitives.Log(sum, sum); else TensorPrimitives.Reciprocal(sum, sum);
            for (int a = 0; a < n; a++)
            {
                var yr = yb.Slice(a * inner, inner);
                if (log) TensorPrimitives.Subtract(yr, sum, yr); else TensorPrimitives.Multiply(yr, sum, yr);
            }
        }
    }

    static void SoftmaxBackward<T>(AxisSplit s, ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> dx, int o0, int o1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner, blk = n * inner;
        var tmp = Cpu.ThreadScratch<T>.Get(inner == 1 ? n : inner);
        var dot = inner == 1 ? [] : Cpu.ThreadScratch<T>.Get(inner, 1);
        for (int o = o0; o < o1; o++)
        {
            var yb = y.Slice(o * blk, blk); var gb = g.Slice(o * blk, blk); var db = dx.Slice(o * blk, blk);
            if (inner == 1)
            {
                T d = TensorPrimitives.Dot(gb, yb);
                TensorPrimitives.Subtract(gb, d, tmp);
                TensorPrimitives.MultiplyAdd(yb, tmp, db, db);
                continue;
            }
            dot.Clear();
            for (int a = 0; a < n; a++) TensorPrimitives.MultiplyAdd(gb.Slice(a * inner, inner), yb.Slice(a * inner, inner), dot, dot);
            for (int a = 0; a < n; a++)
            {
                var dr = db.Slice(a * inner, inner);
                TensorPrimitives.Subtract(gb.Slice(a * inner, inner), dot, tmp);
                TensorPrimitives.MultiplyAdd(yb.Slice(a * inner, inner), tmp, dr, dr);
            }
        }
    }

    [GradCases(Op = "softmax", Cpu = nameof(Softmax), Tolerance = ToleranceClass.Accumulating,
        Kernels = "SoftmaxKernels PermuteKernels")]
    static IEnumerable<GradCase> SoftmaxCases()
    {
        yield return GradCase.Ranged("softmax", -2, 2, x => Softmax(x[0]), [3, 5]);
        yield return GradCase.Ranged("softmax_axis0", -2, 2, x => Softmax(x[0], 0), [4, 3]);
        yield return GradCase.Ranged("softmax_middle", -2, 2, x => Softmax(x[0], 1), [2, 3, 4]);
        yield return GradCase.Ranged("softmax_4d", -2, 2, x => Softmax(x[0]), [2, 2, 2, 3]);
    }
}
