// LinearRelu: y = max(x · Wᵀ + b, 0), the hidden layer of an MLP as one op. Forward is one SGEMM
// whose epilogue seeds the bias and clamps each tile while it is in cache (no bias pass, no ReLU
// pass, no pre-activation buffer). Backward: g = dy where y > 0 (y > 0 exactly where the
// pre-activation is), db += column sums of g in the same pass (columns split over threads, rows
// summed in order), then dx = g · W and dW += gᵀ · x as in Linear. Same rounding as
// Relu(Linear(x, W, b)), so the two are bit-identical (tests/NanoMbpo.Tests/Ops/LinearReluTests.cs).
// Gradient check: catalog "linear_relu*"; benchmark: `nanombpo bench mlp` (NN/Mlp.cs uses it).
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>relu(x (..., in) · weight (out, in)ᵀ + bias (out)) → (..., out).</summary>
    public static Tensor LinearRelu(Tensor x, Tensor weight, Tensor? bias = null)
    {
        int rows = LinearCheck(x, weight, bias, "linear_relu", out int inF, out int outF);
        if (Dev.OnDevice("linear_relu", x, weight, bias)) return Relu(LinearOnDevice(x, weight, bias, rows, inF, outF));
        var y = Tensor.Empty([.. x.Shape[..^1], outF], x.DType);
        if (x.DType == DType.F32) LinearForward<float>(x, weight, bias, y, rows, inF, outF, relu: true);
        else LinearForward<double>(x, weight, bias, y, rows, inF, outF, relu: true);
        Action<Tensor> backward = dy =>
        {
            if (x.DType == DType.F32) LinearReluBackward<float>(x, weight, bias, y, dy, rows, inF, outF);
            else LinearReluBackward<double>(x, weight, bias, y, dy, rows, inF, outF);
        };
        return bias is null ? Autograd.Record(y, "linear_relu", backward, x, weight) : Autograd.Record(y, "linear_relu", backward, x, weight, bias);
    }

    /// <summary>Mask passes of up to this many elements (1 MiB of floats) run on the calling thread.
    /// Settable for bench/ MlpStepBench's A/B (0 restores the two-thread split).</summary>
    internal static int MaskSerialElements = 1 << 18;

    static void LinearReluBackward<T>(Tensor x, Tensor w, Tensor? b, Tensor y, Tensor dy, int rows, int inF, int outF) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Tensor.Empty(y.Shape, y.DType);   // dL/d(pre-activation), fully written below
        bool needDb = b is not null && b.RequiresGrad;
        if (needDb) b!.GradData<T>();
        // Column blocks of 8 so each thread's slice of a row starts on a vector boundary. Up to
        // MaskSerialElements the pass stays on the caller: dy was written there (by the dX GEMM of the
        // layer above), and g is next read there (this layer's dX GEMM), so a split would move half of
        // both between cores and add a parallel region. MLP 64-256-256-16 step, 256x256 masks, five
        // in-process A/B runs of 20 alternating 300-step rounds: serial 2.6-7 % faster in every run.
        int blocks = (outF + 7) / 8;
        Cpu.CpuThreads.For(blocks, Math.Max(1, MaskSerialElements / Math.Max(1, rows * 8)), (s, e) =>
            ReluMaskColumns<T>(y.Data<T>(), dy.Data<T>(), g.Data<T>(), needDb ? b!.Grad!.Data<T>() : default, rows, outF, s * 8, Math.Min(outF, e * 8)));
        LinearBackward<T>(x, w, b, g, rows, inF, outF, biasDone: true);
    }

    /// <summary>For columns [j0, j1): g = dy where y > 0 else 0, and db += Σ_rows g (rows in order) when db is not empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ReluMaskColumns<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> g, Span<T> db, int rows, int outF, int j0, int j1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T py = ref MemoryMarshal.GetReference(y), pdy = ref MemoryMarshal.GetReference(dy), pg = ref MemoryMarshal.GetReference(g);
        bool sum = !db.IsEmpty;
        ref T pdb = ref MemoryMarshal.GetReference(db);
        int w = Vector256<T>.Count;
        for (int r = 0; r < rows; r++)
        {
            nuint row = (nuint)r * (nuint)outF;
            int j = j0;
            if (Vector256.IsHardwareAccelerated)
                for (; j + w <= j1; j += w)
                {
                    nuint o = row + (nuint)j;
                    var v = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.LoadUnsafe(ref py, o), Vector256<T>.Zero),
                        Vector256.LoadUnsafe(ref pdy, o), Vector256<T>.Zero);
                    v.StoreUnsafe(ref pg, o);
                    if (sum) (Vector256.LoadUnsafe(ref pdb, (nuint)j) + v).StoreUnsafe(ref pdb, (nuint)j);
                }
            for (; j < j1; j++)
            {
                nuint o = row + (nuint)j;
                T v = Unsafe.Add(ref py, o) > T.Zero ? Unsafe.Add(ref pdy, o) : T.Zero;
                Unsafe.Add(ref pg, o) = v;
                if (sum) Unsafe.Add(ref pdb, j) += v;
            }
        }
    }

    [GradCases(Op = "linear_relu", Cpu = nameof(LinearRelu), Tolerance = ToleranceClass.Accumulating,
        Composite = "linear then relu on the device")]
    static IEnumerable<GradCase> LinearReluCases()
    {
        // 9 outputs exercise the vector body and the scalar tail of the mask pass.
        yield return GradCase.Simple("linear_relu", x => LinearRelu(x[0], x[1], x[2]), [3, 4], [9, 4], [9]);
        yield return GradCase.Simple("linear_relu_nobias_3d", x => LinearRelu(x[0], x[1]), [2, 3, 4], [5, 4]);
    }
}
