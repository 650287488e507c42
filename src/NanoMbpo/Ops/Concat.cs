// Concat: joins tensors along one axis. Viewed as (outer, size_i·inner) blocks, the forward copies
// each input's block row into the output row and the backward adds the matching slices of dy back.
// Works for I32 tensors too. Gradient check: catalog "concat*"; tests: tests/NanoMbpo.Tests/Ops/ShapeOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>xs (each with equal shapes except at <paramref name="axis"/>) joined along that axis.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> xs, int axis)
    {
        ArgumentNullException.ThrowIfNull(xs);
        if (xs.Count == 0) throw new ArgumentException("concat: needs at least one tensor.", nameof(xs));
        var x0 = xs[0];
        // Integer inputs count too (Dev.Common looks at float tensors only): all must share a device.
        var device = x0.Device;
        for (int i = 1; i < xs.Count; i++)
            if (xs[i].Device != device)
                throw new ArgumentException($"concat: xs[{i}] is on {xs[i].Device} but xs[0] is on {device}; move them with To(device) first.", nameof(xs));
        if (x0.Rank == 0) throw new ArgumentException($"concat: cannot concatenate rank-0 tensors (xs[0]{x0.ShapeString}).", nameof(xs));
        int ax = axis < 0 ? axis + x0.Rank : axis;
        if (ax < 0 || ax >= x0.Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"concat: axis {axis} is out of range for xs[0]{x0.ShapeString}.");
        int total = 0;
        for (int i = 0; i < xs.Count; i++)
        {
            var t = xs[i];
            if (t.DType != x0.DType) throw new ArgumentException($"concat: xs[{i}] is {t.DType} but xs[0] is {x0.DType}.", nameof(xs));
            bool ok = t.Rank == x0.Rank;
            for (int d = 0; ok && d < t.Rank; d++) ok = d == ax || t.Shape[d] == x0.Shape[d];
            if (!ok) throw new ArgumentException($"concat: xs[{i}]{t.ShapeString} does not match xs[0]{x0.ShapeString} outside axis {axis}.", nameof(xs));
            total += t.Shape[ax];
        }
        var outShape = (int[])x0.Shape.Clone();
        outShape[ax] = total;
        int outer = ShapeUtil.Numel(x0.Shape.AsSpan(0, ax)), inner = ShapeUtil.Numel(x0.Shape.AsSpan(ax + 1));
        var arr = xs.ToArray();
        if (!device.IsCpu) return ConcatOnDevice(arr, outShape, outer, inner, ax, total);
        var y = Tensor.Zeros(outShape, x0.DType);
        switch (x0.DType)
        {
            case DType.F32: ConcatCore<float>(arr, y, outer, inner, total, false); break;
            case DType.F64: ConcatCore<double>(arr, y, outer, inner, total, false); break;
            default: ConcatCore<int>(arr, y, outer, inner, total, false); return y;
        }
        return Autograd.Record(y, "concat", dy =>
        {
            if (x0.DType == DType.F32) ConcatCore<float>(arr, dy, outer, inner, total, true);
            else ConcatCore<double>(arr, dy, outer, inner, total, true);
        }, arr);
    }

    /// <summary>Device twin: one window copy per input into y, and per input back out of dy.</summary>
    static Tensor ConcatOnDevice(Tensor[] xs, int[] outShape, int outer, int inner, int ax, int total)
    {
        if (xs[0].DType != DType.F32) throw Dev.Unsupported("concat", xs[0].Device, $"the inputs are {xs[0].DType} and the window-copy kernel is float32");
        var l = Dev.L(xs[0]);
        var y = Dev.Empty(outShape, xs[0].Device);
        int off = 0;
        foreach (var x in xs)
        {
            int n = x.Shape[ax];
            l.WindowCopy(Dev.V(y), Dev.V(x), outer, inner, n, 0, total, off, n, accumulate: false);
            off += n;
        }
        return Autograd.Record(y, "concat", dy =>
        {
            int o = 0;
            foreach (var x in xs)
            {
                int n = x.Shape[ax];
                if (x.RequiresGrad) l.WindowCopy(Dev.GradAccum(x), Dev.V(dy), outer, inner, total, o, n, 0, n, accumulate: true);
                o += n;
            }
        }, xs);
    }

    /// <summary>Forward: copies each xs block into y. Backward (<paramref name="backward"/>): adds y's
    /// (=dy's) blocks into the gradients of the xs that need one.</summary>
    static void ConcatCore<T>(Tensor[] xs, Tensor y, int outer, int inner, int total, bool backward) where T : unmanaged, INumber<T>
    {
        var yd = y.Data<T>();
        int rowLen = total * inner, off = 0;
        foreach (var x in xs)
        {
            int len = outer == 0 ? 0 : x.Length / outer;   // this input's size along the axis × inner
            if (!backward)
            {
                var xd = x.Data<T>();
                for (int o = 0; o < outer; o++) xd.Slice(o * len, len).CopyTo(yd.Slice(o * rowLen + off, len));
            }
            else if (x.RequiresGrad)
            {
                var g = x.GradData<T>();
                for (int o = 0; o < outer; o++)
                {
                    var gs = g.Slice(o * len, len);
                    TensorPrimitives.Add(gs, yd.Slice(o * rowLen + off, len), gs);
                }
            }
            off += len;
        }
    }

    [GradCases(Op = "concat", Cpu = nameof(Concat), Tolerance = ToleranceClass.Pointwise, Kernels = "SliceKernels")]
    static IEnumerable<GradCase> ConcatCases()
    {
        yield return GradCase.Simple("concat_axis0", x => Concat([x[0], x[1]], 0), [2, 3], [1, 3]);
        yield return GradCase.Simple("concat_last", x => Concat([x[0], x[1], x[2]], -1), [2, 2, 1], [2, 2, 3], [2, 2, 2]);
        yield return GradCase.Simple("concat_middle", x => Concat([x[0], x[1]], 1), [2, 1, 3], [2, 3, 3]);
    }
}
