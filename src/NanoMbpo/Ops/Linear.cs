// Linear: y = x · Wᵀ + b with W stored (out, in) as torch and Hugging Face store it, the bias fused
// into the same op. Backward: dx = dy · W, dW += dyᵀ · x, db += column sums of dy — all GEMMs but
// the bias. Gradient check: catalog "linear*"; benchmark: bench/ MLP step.
using System.Numerics;
using System.Numerics.Tensors;
using NanoMbpo.Cpu;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>x (..., in) · weight (out, in)ᵀ + bias (out) → (..., out).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        int rows = LinearCheck(x, weight, bias, "linear", out int inF, out int outF);
        if (Dev.OnDevice("linear", x, weight, bias)) return LinearOnDevice(x, weight, bias, rows, inF, outF);
        var y = Tensor.Empty([.. x.Shape[..^1], outF], x.DType);   // fully written: bias rows or a beta = 0 GEMM
        if (x.DType == DType.F32) LinearForward<float>(x, weight, bias, y, rows, inF, outF, relu: false);
        else LinearForward<double>(x, weight, bias, y, rows, inF, outF, relu: false);
        Action<Tensor> backward = dy =>
        {
            if (x.DType == DType.F32) LinearBackward<float>(x, weight, bias, dy, rows, inF, outF, biasDone: false);
            else LinearBackward<double>(x, weight, bias, dy, rows, inF, outF, biasDone: false);
        };
        return bias is null ? Autograd.Record(y, "linear", backward, x, weight) : Autograd.Record(y, "linear", backward, x, weight, bias);
    }

    /// <summary>Validates linear's arguments (op names the caller) and returns the row count.</summary>
    static int LinearCheck(Tensor x, Tensor weight, Tensor? bias, string op, out int inF, out int outF)
    {
        OpCheck.Float(x, op, "x"); OpCheck.SameDType(x, weight, op);
        OpCheck.Rank(weight, 2, op, "weight");
        outF = weight.Shape[0]; inF = weight.Shape[1];
        if (x.Rank < 1 || x.Shape[^1] != inF)
            throw new ArgumentException($"{op}: x{x.ShapeString} must end in {inF} (weight{weight.ShapeString} is (out,in)).", nameof(x));
        if (bias is not null)
        {
            OpCheck.SameDType(x, bias, op);
            if (bias.Rank != 1 || bias.Shape[0] != outF) throw new ArgumentException($"{op}: bias{bias.ShapeString} must be ({outF}).", nameof(bias));
        }
        return inF == 0 ? ShapeUtil.Numel(x.Shape.AsSpan(0, x.Rank - 1)) : x.Length / inF;
    }

    /// <summary>y (rows,out) = x · Wᵀ + b, then max(y, 0) when relu. float32: one SGEMM whose epilogue
    /// seeds the bias and applies the ReLU per tile; float64: seed rows, GEMM with beta = 1, clamp.
    /// Both round as "C = bias, then C += x·Wᵀ", so linear_relu equals relu(linear) bit for bit.</summary>
    static unsafe void LinearForward<T>(Tensor x, Tensor w, Tensor? b, Tensor y, int rows, int inF, int outF, bool relu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var yd = y.Data<T>();
        if (rows == 0 || outF == 0) return;
        if (typeof(T) == typeof(float))
        {
            fixed (T* px = x.Data<T>()) fixed (T* pw = w.Data<T>()) fixed (T* py = yd) fixed (T* pb = b is null ? default : b.Data<T>())
                Sgemm.RunBiasRelu(false, true, rows, outF, inF, (float*)px, Math.Max(1, inF), (float*)pw, Math.Max(1, inF), (float*)py, outF, (float*)pb, relu);
            return;
        }
        if (b is not null)
        {
            var bd = b.Data<T>();
            for (int r = 0; r < rows; r++) bd.CopyTo(yd.Slice(r * outF, outF));
        }
        Gemm.Run<T>(false, true, 1, rows, outF, inF, T.One, x.Data<T>(), inF, 0, w.Data<T>(), inF, 0,
            b is null ? T.Zero : T.One, yd, outF, 0);
        if (relu) TensorPrimitives.Max(yd, T.Zero, yd);
    }

    /// <summary>dx, dW and (unless biasDone) db from g = dL/d(x·Wᵀ+b) (rows,out).</summary>
    static void LinearBackward<T>(Tensor x, Tensor w, Tensor? b, Tensor g, int rows, int inF, int outF, bool biasDone) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool needDx = x.RequiresGrad, needDw = w.RequiresGrad;
        bool needDb = !biasDone && b is not null && b.RequiresGrad;
        bool acc = true;
        if (needDx) x.GradForWrite<T>(out acc);   // a fresh dx is written by its GEMM (beta = 0), not zero-filled
        if (needDw) w.GradData<T>();
        if (needDb) b!.GradData<T>();
        // With exactly two threads the two independent GEMMs run side by side, one per thread: no
        // split, barrier or load imbalance inside either (MLP 256-wide layer: 562 -> 549 us, the
        // 256->16 layer 40 -> 33 us, medians). With more threads each GEMM gets all of them. The
        // bias gradient rides on the dx thread, so it costs no pass of its own.
        if (needDx && needDw && Cpu.CpuThreads.Count == 2 && (long)rows * inF * outF >= 1 << 18)
            Cpu.CpuThreads.Invoke(() =>
            {
                LinearDx<T>(x, w, g, rows, inF, outF, acc);
                if (needDb) ColumnSums<T>(g.Data<T>(), b!.Grad!.Data<T>(), rows, outF, 0, outF);
            }, () => LinearDw<T>(x, w, g, rows, inF, outF));
        else
        {
            if (needDx) LinearDx<T>(x, w, g, rows, inF, outF, acc);
            if (needDw) LinearDw<T>(x, w, g, rows, inF, outF);
            if (needDb) ColumnSums<T>(g.Data<T>(), b!.Grad!.Data<T>(), rows, outF, 0, outF);
        }
    }

    /// <summary>db[j] += Σ_r g[r, j] for columns [j0, j1), rows added in order (the result does not
    /// depend on how columns are split over threads).</summary>
    static void ColumnSums<T>(ReadOnlySpan<T> g /* (rows,out) */, Span<T> db /* (out) */, int rows, int outF, int j0, int j1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = db[j0..j1];
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(d, g.Slice(r * outF + j0, j1 - j0), d);
    }

    /// <summary>Device twin: SGEMM then the bias-add kernel; backward GEMMs accumulate (beta = 1),
    /// the bias gradient is a column-sum kernel.</summary>
    static Tensor LinearOnDevice(Tensor x, Tensor w, Tensor? b, int rows, int inF, int outF)
    {
        Dev.F32("linear", x, w, b);
        var l = Dev.L(x);
        var y = Dev.Empty([.. x.Shape[..^1], outF], x.Device);
        Dev.Gemm(l, false, true, 1, rows, outF, inF, 1f, Dev.V(x), inF, 0, Dev.V(w), inF, 0, 0f, Dev.V(y), outF, 0);
        if (b is not null && y.Length > 0) l.BiasAdd(Dev.V(y), Dev.V(y), Dev.V(b), rows, outF);
        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        return Autograd.Record(y, "linear", dy =>
        {
            var g = Dev.V(dy);
            if (x.RequiresGrad) Dev.Gemm(l, false, false, 1, rows, inF, outF, 1f, g, outF, 0, Dev.V(w), inF, 0, 1f, Dev.GradAccum(x), inF, 0);
            if (w.RequiresGrad) Dev.Gemm(l, true, false, 1, outF, inF, rows, 1f, g, outF, 0, Dev.V(x), inF, 0, 1f, Dev.GradAccum(w), inF, 0);
            if (b is not null && b.RequiresGrad && rows > 0) { using var s = Dev.Sink(b); l.BiasAddBackward(s.View, g, rows, outF); }
        }, inputs);
    }

    /// <summary>dx (rows,in) = dy (rows,out) · W (out,in), added to x's gradient or written over it.</summary>
    static void LinearDx<T>(Tensor x, Tensor w, Tensor dy, int rows, int inF, int outF, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
        => Gemm.Run<T>(false, false, 1, rows, inF, outF, T.One, dy.Data<T>(), outF, 0, w.Data<T>(), inF, 0,
            accumulate ? T.One : T.Zero, x.Grad!.Data<T>(), inF, 0);

    /// <summary>dW (out,in) += dyᵀ · x.</summary>
    static void LinearDw<T>(Tensor x, Tensor w, Tensor dy, int rows, int inF, int outF) where T : unmanaged, IFloatingPointIeee754<T>
        => Gemm.Run<T>(true, false, 1, outF, inF, rows, T.One, dy.Data<T>(), outF, 0, x.Data<T>(), inF, 0, T.One, w.Grad!.Data<T>(), inF, 0);

    [GradCases(Op = "linear", Cpu = nameof(Linear), Tolerance = ToleranceClass.Accumulating,
        Kernels = "MatMulKernels MatMulTf32Kernels BiasAddKernels")]
    static IEnumerable<GradCase> LinearCases()
    {
        yield return GradCase.Simple("linear", x => Linear(x[0], x[1], x[2]), [3, 4], [5, 4], [5]);
        yield return GradCase.Simple("linear_nobias_3d", x => Linear(x[0], x[1]), [2, 3, 4], [5, 4]);
    }
}
