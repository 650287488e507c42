// LogSoftmax along an axis, stable: y = x − max − log Σ exp(x − max). Backward: dx = dy − exp(y)·Σ dy.
// Same layout and loops as Softmax.cs. Gradient check: catalog "log_softmax*";
// tests: tests/NanoMbpo.Tests/Ops/SoftmaxTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor LogSoftmax(Tensor x, int axis = -1)
    {
        var s = AxisSplit.Of(x, axis, "log_softmax");
        var y = Tensor.Zeros(x.Shape, x.DType);
        Cpu.CpuThreads.For(s.Outer, Math.Max(1, Elementwise.Grain / Math.Max(1, s.N * s.Inner)), (o0, o1) =>
        {
            if (x.DType == DType.F32) LogSoftmaxForward<float>(s, x.F32, y.F32, o0, o1);
            else LogSoftmaxForward<double>(s, x.F64, y.F64, o0, o1);
        });
        return Autograd.Record(y, "log_softmax", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) x.GradData<float>(); else x.GradData<double>();
            Cpu.CpuThreads.For(s.Outer, Math.Max(1, Elementwise.Grain / Math.Max(1, s.N * s.Inner)), (o0, o1) =>
            {
                if (x.DType == DType.F32) LogSoftmaxBackward<float>(s, y.F32, dy.F32, x.Grad!.F32, o0, o1);
                else LogSoftmaxBackward<double>(s, y.F64, dy.F64, x.Grad!.F64, o0, o1);
            });
        }, x);
    }

    static void LogSoftmaxForward<T>(AxisSplit s, ReadOnlySpan<T> x, Span<T> y, int o0, int o1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner, blk = n * inner;
        if (n == 0) return;
        var tmp = new T[inner == 1 ? n : inner];
        var m = inner == 1 ? [] : new T[inner]; var sum = inner == 1 ? [] : new T[inner];
        for (int o = o0; o < o1; o++)
        {
            var xb = x.Slice(o * blk, blk); var yb = y.Slice(o * blk, blk);
            if (inner == 1)
            {
                T max = TensorPrimitives.Max(xb);
                TensorPrimitives.Subtract(xb, max, yb);
                TensorPrimitives.Exp(yb, tmp);
                T lse = T.Log(TensorPrimitives.Sum<T>(tmp));
                TensorPrimitives.Subtract(yb, lse, yb);
                continue;
            }
            xb[..inner].CopyTo(m);
            for (int a = 1; a < n; a++) TensorPrimitives.Max(m, xb.Slice(a * inner, inner), m);
            sum.AsSpan().Clear();
            for (int a = 0; a < n; a++)
            {
                var yr = yb.Slice(a * inner, inner);
                TensorPrimitives.Subtract(xb.Slice(a * inner, inner), m, yr);
                TensorPrimitives.Exp(yr, tmp);
                TensorPrimitives.Add(sum, tmp, sum);
            }
            TensorPrimitives.Log(sum, sum);
            for (int a = 0; a < n; a++) { var yr = yb.Slice(a * inner, inner); TensorPrimitives.Subtract(yr, sum, yr); }
        }
    }

    static void LogSoftmaxBackward<T>(AxisSplit s, ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> dx, int o0, int o1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner, blk = n * inner;
        var tmp = new T[inner == 1 ? n : inner];
        var gs = inner == 1 ? [] : new T[inner];
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
            gs.AsSpan().Clear();
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

    [GradCases]
    static IEnumerable<GradCase> LogSoftmaxCases()
    {
        yield return GradCase.Ranged("log_softmax", -2, 2, x => LogSoftmax(x[0]), [3, 5]);
        yield return GradCase.Ranged("log_softmax_axis0", -2, 2, x => LogSoftmax(x[0], 0), [4, 3]);
        yield return GradCase.Ranged("log_softmax_middle", -2, 2, x => LogSoftmax(x[0], 1), [2, 3, 4]);
    }
}
