// LogSoftmax along an axis, stable: y = x − max − log Σ exp(x − max). Backward: dx = dy − exp(y)·Σ dy.
// Forward, threads, tape node and device path are shared with softmax (Softmax.cs, flag log: true).
// Gradient check: catalog "log_softmax*"; tests: tests/NanoMbpo.Tests/Ops/SoftmaxTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor LogSoftmax(Tensor x, int axis = -1) => SoftmaxFamily(x, axis, log: true);

    static void LogSoftmaxBackward<T>(AxisSplit s, ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> dx, int o0, int o1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner, blk = n * inner;
        var tmp = Cpu.ThreadScratch<T>.Get(inner == 1 ? n : inner);
        var gs = inner == 1 ? [] : Cpu.ThreadScratch<T>.Get(inner, 1);
        for (int o = o0; o < o1; o++)
        {
            var yb = y.Slice(o * blk, blk); var gb = g.Slice(o * blk, blk); var db = dx.Slice(o * blk, blk);
            if (inner == 1)
            {
                T sg = TensorPrimitives.Sum(gb);
                TensorPrimitives.Exp(yb, tmp);
                TensorPrimitives.Add(db, gb, db);
                TensorPrimitives.MultiplyAdd(tmp, -sg, db, db);
                continue;
            }
            gs.Clear();
            for (int a = 0; a < n; a++) TensorPrimitives.Add(gs, gb.Slice(a * inner, inner), gs);
            for (int a = 0; a < n; a++)
            {
                var dr = db.Slice(a * inner, inner);
                TensorPrimitives.Exp(yb.Slice(a * inner, inner), tmp);
                TensorPrimitives.Multiply(tmp, gs, tmp);
                TensorPrimitives.Add(dr, gb.Slice(a * inner, inner), dr);
                TensorPrimitives.Subtract(dr, tmp, dr);
            }
        }
    }

    [GradCases(Op = "log_softmax", Cpu = nameof(LogSoftmax), Tolerance = ToleranceClass.Accumulating,
        Kernels = "SoftmaxKernels PermuteKernels")]
    static IEnumerable<GradCase> LogSoftmaxCases()
    {
        yield return GradCase.Ranged("log_softmax", -2, 2, x => LogSoftmax(x[0]), [3, 5]);
        yield return GradCase.Ranged("log_softmax_axis0", -2, 2, x => LogSoftmax(x[0], 0), [4, 3]);
        yield return GradCase.Ranged("log_softmax_middle", -2, 2, x => LogSoftmax(x[0], 1), [2, 3, 4]);
    }
}
