// Broadcasting for the binary elementwise ops (add/sub/mul/div/minimum/maximum), numpy/torch rules:
// shapes align at the right, each dim equal or 1. The plan collapses adjacent dims that broadcast
// the same way, so every pattern becomes runs of `Inner` contiguous output elements where each
// operand is either a contiguous run (vector) or one repeated element (scalar): same shape is one
// run; (B,T,C)+(C) is rows of C with b a vector; (...,N)+(...,1) is rows of N with b a scalar.
// Inner loops are then TensorPrimitives calls. Tested by tests/NanoMbpo.Tests/Ops/BinaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

/// <summary>A span kernel for one binary op: vector⊗vector, vector⊗scalar and scalar⊗vector runs.</summary>
internal interface IBinarySpanOp
{
    static abstract void VV<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T>;
    static abstract void VS<T>(ReadOnlySpan<T> a, T b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T>;
    static abstract void SV<T>(T a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T>;
}

internal sealed class Broadcast
{
    public int[] OutShape { get; }
    public int OutLength { get; }
    /// <summary>Length of each contiguous output run; run k covers out[k·Inner, (k+1)·Inner).</summary>
    public int Inner { get; }
    /// <summary>Number of runs.</summary>
    public int Outer { get; }
    /// <summary>Whether a (b) advances along a run; otherwise one element of it is repeated.</summary>
    public bool AVec { get; }
    public bool BVec { get; }
    /// <summary>Start of run k in a's (b's) storage.</summary>
    public int[] OffA { get; }
    public int[] OffB { get; }
    /// <summary>a (b) is not broadcast at all: it has as many elements as the output.</summary>
    public bool FullA { get; }
    public bool FullB { get; }

    Broadcast(int[] outShape, int inner, int outer, bool aVec, bool bVec, int[] offA, int[] offB, bool fullA, bool fullB)
    {
        OutShape = outShape; OutLength = ShapeUtil.Numel(outShape); Inner = inner; Outer = outer;
        AVec = aVec; BVec = bVec; OffA = offA; OffB = offB; FullA = fullA; FullB = fullB;
    }

    static readonly int[] ZeroOffset = [0];

    public static Broadcast Plan(Tensor a, Tensor b, string op)
    {
        OpCheck.Float(a, op, "a"); OpCheck.Float(b, op, "b"); OpCheck.SameDType(a, b, op);
        // Same shapes (residual adds, elementwise products): one run, nothing to collapse or allocate
        // beyond the plan itself — what the general path below would compute.
        if (ShapeUtil.Same(a.Shape, b.Shape) && a.Length > 0) return new Broadcast(a.Shape, a.Length, 1, true, true, ZeroOffset, ZeroOffset, true, true);
        int r = Math.Max(a.Rank, b.Rank);
        var outShape = new int[r];
        var sa = new int[r]; var sb = new int[r];
        for (int i = 0; i < r; i++)
        {
            sa[i] = i < r - a.Rank ? 1 : a.Shape[i - (r - a.Rank)];
            sb[i] = i < r - b.Rank ? 1 : b.Shape[i - (r - b.Rank)];
            if (sa[i] == sb[i] || sb[i] == 1) outShape[i] = sa[i];
            else if (sa[i] == 1) outShape[i] = sb[i];
            else throw new ArgumentException($"{op}: shapes a{a.ShapeString} and b{b.ShapeString} cannot broadcast " +
                $"(dimension {i - r} is {sa[i]} vs {sb[i]}; each must match or be 1).");
        }
        int n = ShapeUtil.Numel(outShape);
        bool fullA = a.Length == n, fullB = b.Length == n;
        if (n == 0) return new Broadcast(outShape, 0, 0, true, true, [], [], fullA, fullB);

        // Collapse: drop size-1 output dims, merge neighbours with the same (a full?, b full?) pattern.
        var sizes = new List<int>(); var af = new List<bool>(); var bf = new List<bool>();
        for (int i = 0; i < r; i++)
        {
            if (outShape[i] == 1) continue;
            bool fa = sa[i] == outShape[i], fb = sb[i] == outShape[i];
            if (sizes.Count > 0 && af[^1] == fa && bf[^1] == fb) sizes[^1] *= outShape[i];
            else { sizes.Add(outShape[i]); af.Add(fa); bf.Add(fb); }
        }
        if (sizes.Count == 0) { sizes.Add(1); af.Add(true); bf.Add(true); }

        int d = sizes.Count;
        var strideA = new int[d]; var strideB = new int[d];
        int accA = 1, accB = 1;
        for (int j = d - 1; j >= 0; j--)
        {
            strideA[j] = af[j] ? accA : 0; if (af[j]) accA *= sizes[j];
            strideB[j] = bf[j] ? accB : 0; if (bf[j]) accB *= sizes[j];
        }
        int inner = sizes[^1], outer = n / inner;
        var offA = new int[outer]; var offB = new int[outer];
        var idx = new int[d - 1];
        int oa = 0, ob = 0;
        for (int k = 0; k < outer; k++)
        {
            offA[k] = oa; offB[k] = ob;
            // Odometer over the outer collapsed dims, updating offsets incrementally.
            for (int j = d - 2; j >= 0; j--)
            {
                idx[j]++; oa += strideA[j]; ob += strideB[j];
                if (idx[j] < sizes[j]) break;
                oa -= strideA[j] * sizes[j]; ob -= strideB[j] * sizes[j]; idx[j] = 0;
            }
        }
        return new Broadcast(outShape, inner, outer, af[^1], bf[^1], offA, offB, fullA, fullB);
    }

    /// <summary>o = a ⊗ b over the broadcast output.</summary>
    public void Apply<T, K>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> where K : IBinarySpanOp
    {
        for (int k = 0; k < Outer; k++)
        {
            var ok = o.Slice(k * Inner, Inner);
            if (AVec && BVec) K.VV(a.Slice(OffA[k], Inner), b.Slice(OffB[k], Inner), ok);
            else if (AVec) K.VS(a.Slice(OffA[k], Inner), b[OffB[k]], ok);
            else K.SV(a[OffA[k]], b.Slice(OffB[k], Inner), ok);
        }
    }

    /// <summary>o = full ⊗ other, where full has the output's shape and other is operand a
    /// (<paramref name="otherIsA"/>) or b laid out as in this plan. Used by backward passes.</summary>
    public void ApplyFull<T, K>(ReadOnlySpan<T> full, ReadOnlySpan<T> other, bool otherIsA, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> where K : IBinarySpanOp
    {
        bool vec = otherIsA ? AVec : BVec;
        var off = otherIsA ? OffA : OffB;
        for (int k = 0; k < Outer; k++)
        {
            var f = full.Slice(k * Inner, Inner); var ok = o.Slice(k * Inner, Inner);
            if (vec) K.VV(f, other.Slice(off[k], Inner), ok);
            else K.VS(f, other[off[k]], ok);
        }
    }

    /// <summary>grad += scale · full summed over the dims where operand a (<paramref name="forA"/>) or b was broadcast.</summary>
    public void ReduceInto<T>(ReadOnlySpan<T> full, bool forA, Span<T> grad, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (forA ? FullA : FullB)
        {
            // Not broadcast: same element order as the output (size-1 dims do not move data).
            if (scale == T.One) TensorPrimitives.Add(grad, full, grad);
            else TensorPrimitives.MultiplyAdd(full, scale, grad, grad);
            return;
        }
        bool vec = forA ? AVec : BVec;
        var off = forA ? OffA : OffB;
        for (int k = 0; k < Outer; k++)
        {
            var f = full.Slice(k * Inner, Inner);
            if (vec)
            {
                var g = grad.Slice(off[k], Inner);
                if (scale == T.One) TensorPrimitives.Add(g, f, g); else TensorPrimitives.MultiplyAdd(f, scale, g, g);
            }
            else grad[off[k]] += scale * TensorPrimitives.Sum(f);
        }
    }

    /// <summary>Writes operand a (<paramref name="forA"/>) or b expanded to the output's shape.</summary>
    public void Expand<T>(ReadOnlySpan<T> src, bool forA, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool vec = forA ? AVec : BVec;
        var off = forA ? OffA : OffB;
        for (int k = 0; k < Outer; k++)
        {
            var o = dst.Slice(k * Inner, Inner);
            if (vec) src.Slice(off[k], Inner).CopyTo(o); else o.Fill(src[off[k]]);
        }
    }
}
