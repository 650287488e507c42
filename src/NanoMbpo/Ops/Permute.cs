// Permute: reorders axes (y.Shape[i] = x.Shape[perm[i]]) into a fresh contiguous tensor. Backward is
// the inverse permutation, accumulated into dx. Axes that stay adjacent are merged first, so the
// attention head split (B,T,NH,HS)→(B,NH,T,HS) becomes contiguous HS-element block copies and a
// last-two-axes swap becomes a tiled 2-D transpose. Gradient check: catalog "permute*"; tests:
// tests/NanoMbpo.Tests/Ops/ShapeOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>x with its axes reordered: result axis i is x's axis perm[i] (negative axes allowed).</summary>
    public static Tensor Permute(Tensor x, params int[] perm)
    {
        var p = NormalizePerm(x, perm, "permute");
        var outShape = new int[p.Length];
        for (int i = 0; i < p.Length; i++) outShape[i] = x.Shape[p[i]];
        if (!x.Device.IsCpu) return PermuteOnDevice(x, p, outShape);
        var y = Tensor.Zeros(outShape, x.DType);
        switch (x.DType)
        {
            case DType.F32: PermuteCore<float>(x.F32, x.Shape, p, y.F32, false); break;
            case DType.F64: PermuteCore<double>(x.F64, x.Shape, p, y.F64, false); break;
            default: PermuteCore<int>(x.I32, x.Shape, p, y.I32, false); return y;
        }
        var inv = new int[p.Length];
        for (int i = 0; i < p.Length; i++) inv[p[i]] = i;
        return Autograd.Record(y, "permute", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) PermuteCore<float>(dy.F32, outShape, inv, x.GradData<float>(), true);
            else PermuteCore<double>(dy.F64, outShape, inv, x.GradData<double>(), true);
        }, x);
    }

    /// <summary>Device twin: the permute kernel (thread per output element, merged axes); backward
    /// permutes dy by the inverse perm into a gradient sink.</summary>
    static Tensor PermuteOnDevice(Tensor x, int[] p, int[] outShape)
    {
        if (x.DType != DType.F32) throw Dev.Unsupported("permute", x.Device, $"{x.DType} tensors have no permute kernel");
        var l = Dev.L(x);
        var y = Dev.Empty(outShape, x.Device);
        l.Permute(Dev.V(y), Dev.V(x), Kernels.PermuteArgs.For(x.Shape, p));
        var inv = new int[p.Length];
        for (int i = 0; i < p.Length; i++) inv[p[i]] = i;
        return Autograd.Record(y, "permute", dy =>
        {
            if (!x.RequiresGrad || x.Length == 0) return;
            using var s = Dev.Sink(x);
            l.Permute(s.View, Dev.V(dy), Kernels.PermuteArgs.For(outShape, inv));
        }, x);
    }

    static int[] NormalizePerm(Tensor x, int[] perm, string op)
    {
        if (perm.Length != x.Rank)
            throw new ArgumentException($"{op}: perm {ShapeUtil.Format(perm)} has {perm.Length} axes but x{x.ShapeString} has rank {x.Rank}.", nameof(perm));
        var p = new int[perm.Length];
        var seen = new bool[perm.Length];
        for (int i = 0; i < perm.Length; i++)
        {
            int a = perm[i] < 0 ? perm[i] + x.Rank : perm[i];
            if (a < 0 || a >= x.Rank) throw new ArgumentException($"{op}: axis {perm[i]} in perm {ShapeUtil.Format(perm)} is out of range for x{x.ShapeString}.", nameof(perm));
            if (seen[a]) throw new ArgumentException($"{op}: axis {perm[i]} repeats in perm {ShapeUtil.Format(perm)} (x{x.ShapeString}).", nameof(perm));
            seen[a] = true;
            p[i] = a;
        }
        return p;
    }

    /// <summary>dst (in output order) = or += src permuted. Merges axes that stay adjacent, then runs
    /// block copies (innermost axis unchanged), a tiled transpose (innermost two swapped) or a strided gather.</summary>
    internal static void PermuteCore<T>(ReadOnlySpan<T> src, int[] srcShape, int[] perm, Span<T> dst, bool accumulate)
        where T : unmanaged, INumber<T>
    {
        int rank = srcShape.Length, n = dst.Length;
        if (n == 0) return;
        Span<long> srcStride = stackalloc long[rank];   // ranks are small: no heap allocation per call
        long s = 1;
        for (int i = rank - 1; i >= 0; i--) { srcStride[i] = s; s *= srcShape[i]; }
        // Collapsed output dims and their strides in the source; size-1 axes vanish.
        Span<int> dims = stackalloc int[rank];
        Span<long> strides = stackalloc long[rank];
        int r = 0;
        int prevAxis = -2;
        for (int i = 0; i < rank; i++)
        {
            int a = perm[i], d = srcShape[a];
            if (d == 1) continue;
            if (prevAxis >= 0 && a == prevAxis + 1)
            {
                dims[r - 1] *= d;
                strides[r - 1] = srcStride[a];
            }
            else { dims[r] = d; strides[r] = srcStride[a]; r++; }
            prevAxis = a;
        }
        if (r == 0) { PermutePut(dst, 0, src[0], accumulate); return; }
        if (r == 1 && strides[0] == 1) { PermuteBlock(src, dst, accumulate); return; }

        if (strides[r - 1] == 1)
        {
            // Innermost axis contiguous in both: copy runs of `inner` elements.
            int inner = dims[r - 1];
            int outer = n / inner;
            Span<int> idx = stackalloc int[r];
            long sp = 0;
            for (int o = 0; o < outer; o++)
            {
                PermuteBlock(src.Slice((int)sp, inner), dst.Slice(o * inner, inner), accumulate);
                sp = PermuteAdvance(idx, dims, strides, r - 1, sp);
            }
            return;
        }
        if (r >= 2 && strides[r - 2] == 1)
        {
            // The innermost two axes are swapped: a batch of (R,C) → (C,R) transposes, tiled for cache.
            int rows = dims[r - 2], cols = dims[r - 1];   // output tile is (rows, cols), source is (cols, rows)
            int batch = n / (rows * cols);
            Span<int> idx = stackalloc int[r];
            long sp = 0;
            const int Tile = 32;
            for (int b = 0; b < batch; b++)
            {
                var sb = src.Slice((int)sp);
                var db = dst.Slice(b * rows * cols, rows * cols);
                for (int i0 = 0; i0 < rows; i0 += Tile)
                    for (int j0 = 0; j0 < cols; j0 += Tile)
                    {
                        int i1 = Math.Min(i0 + Tile, rows), j1 = Math.Min(j0 + Tile, cols);
                        for (int i = i0; i < i1; i++)
                            for (int j = j0; j < j1; j++)
                                PermutePut(db, i * cols + j, sb[j * rows + i], accumulate);
                    }
                sp = PermuteAdvance(idx, dims, strides, r - 2, sp);
            }
            return;
        }
        {
            // General: gather element by element along the innermost output axis.
            int inner = dims[r - 1];
            long st = strides[r - 1];
            int outer = n / inner;
            Span<int> idx = stackalloc int[r];
            long sp = 0;
            for (int o = 0; o < outer; o++)
            {
                var d = dst.Slice(o * inner, inner);
                for (int j = 0; j < inner; j++) PermutePut(d, j, src[(int)(sp + j * st)], accumulate);
                sp = PermuteAdvance(idx, dims, strides, r - 1, sp);
            }
        }
    }

    /// <summary>Odometer step over the first <paramref name="count"/> collapsed axes; returns the new source offset.</summary>
    static long PermuteAdvance(Span<int> idx, ReadOnlySpan<int> dims, ReadOnlySpan<long> strides, int count, long sp)
    {
        for (int a = count - 1; a >= 0; a--)
        {
            sp += strides[a];
            if (++idx[a] < dims[a]) return sp;
            sp -= strides[a] * dims[a];
            idx[a] = 0;
        }
        return sp;
    }

    static void PermutePut<T>(Span<T> dst, int i, T v, bool accumulate) where T : unmanaged, INumber<T>
    {
        if (accumulate) dst[i] += v; else dst[i] = v;
    }

    static void PermuteBlock<T>(ReadOnlySpan<T> src, Span<T> dst, bool accumulate) where T : unmanaged, INumber<T>
    {
        if (accumulate) TensorPrimitives.Add(dst, src, dst); else src.CopyTo(dst);
    }

    [GradCases(Op = "permute", Cpu = nameof(Permute), Tolerance = ToleranceClass.Pointwise, Kernels = "PermuteKernels")]
    static IEnumerable<GradCase> PermuteCases()
    {
        yield return GradCase.Simple("permute_heads", x => Permute(x[0], 0, 2, 1, 3), [2, 3, 2, 3]);
        yield return GradCase.Simple("permute_last2", x => Permute(x[0], 0, 2, 1), [2, 3, 4]);
        yield return GradCase.Simple("permute_general", x => Permute(x[0], 2, 0, 1), [2, 3, 4]);
        yield return GradCase.Simple("permute_reverse4", x => Permute(x[0], 3, 2, 1, 0), [2, 1, 3, 2]);
    }
}
