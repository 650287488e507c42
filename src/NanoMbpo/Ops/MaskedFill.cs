// MaskedFill: y = mask ? value : x, with an I32 mask (nonzero = fill) of x's shape or broadcastable
// to it (right-aligned, each mask dim equal to x's or 1: a (T,S) or (B,1,1,S) mask over (B,NH,T,S)).
// Filled positions get no gradient. The float32 select runs in Vector512/Vector256 lanes (int mask and
// float data are both 32-bit, so lanes line up). Gradient check: catalog "masked_fill*"; tests:
// tests/NanoMbpo.Tests/Ops/IndexOpsBTests.cs.
using System.Numerics;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>x with every position where mask (I32, broadcastable to x) is nonzero set to <paramref name="value"/>.</summary>
    public static Tensor MaskedFill(Tensor x, Tensor mask, double value)
    {
        OpCheck.Float(x, "masked_fill", "x");
        if (mask.DType != DType.I32) throw new ArgumentException($"masked_fill: 'mask' must be I32, got {mask}.", nameof(mask));
        if (!x.Device.IsCpu && !mask.Device.IsCpu) mask = mask.To(Device.Cpu);
        int[] m = ExpandMask(x, mask);
        if (!x.Device.IsCpu) return MaskedFillOnDevice(x, m, value);
        var y = Tensor.Zeros(x.Shape, x.DType);
        if (x.DType == DType.F32) MaskSelectF32(x.F32, m, y.F32, (float)value, false);
        else MaskSelect<double>(x.F64, m, y.F64, value, false);
        return Autograd.Record(y, "masked_fill", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) MaskSelectF32(dy.F32, m, x.GradData<float>(), 0f, true);
            else MaskSelect<double>(dy.F64, m, x.GradData<double>(), 0.0, true);
        }, x);
    }

    /// <summary>Device twin: the mask is expanded on the host (one int per element of x) and
    /// uploaded; select kernels for the forward and the backward.</summary>
    static Tensor MaskedFillOnDevice(Tensor x, int[] m, double value)
    {
        Dev.F32("masked_fill", x);
        var l = Dev.L(x);
        var md = Tensor.FromArray(m, m.Length).To(x.Device);
        var y = Dev.Empty(x.Shape, x.Device);
        if (y.Length > 0) l.MaskedFill(Dev.V(y), Dev.V(x), Dev.VI(md), (float)value);
        return Autograd.Record(y, "masked_fill", dy =>
        {
            if (!x.RequiresGrad || x.Length == 0) return;
            using var s = Dev.Sink(x);
            l.MaskedFillBackward(s.View, Dev.V(dy), Dev.VI(md));
        }, x);
    }

    /// <summary>The mask as one int per element of x (the same array when the shapes already agree).</summary>
    static int[] ExpandMask(Tensor x, Tensor mask)
    {
        bool ok = mask.Rank <= x.Rank;
        for (int i = 1; ok && i <= mask.Rank; i++) ok = mask.Shape[^i] == x.Shape[^i] || mask.Shape[^i] == 1;
        if (!ok) throw new ArgumentException($"masked_fill: mask{mask.ShapeString} does not broadcast to x{x.ShapeString} (right-aligned dims must be equal or 1).", nameof(mask));
        var md = mask.I32;
        if (mask.Length == x.Length) return md.ToArray();
        // Right-align the mask's strides against x's dims (stride 0 on broadcast dims), then walk x in order.
        int r = x.Rank;
        var mStride = new int[r];
        int s = 1;
        for (int i = 1; i <= mask.Rank; i++)
        {
            mStride[r - i] = mask.Shape[^i] == 1 ? 0 : s;
            s *= mask.Shape[^i];
        }
        var res = new int[x.Length];
        var idx = new int[r];
        int mp = 0;
        for (int e = 0; e < res.Length; e++)
        {
            res[e] = md[mp];
            for (int a = r - 1; a >= 0; a--)
            {
                mp += mStride[a];
                if (++idx[a] < x.Shape[a]) break;
                mp -= mStride[a] * x.Shape[a];
                idx[a] = 0;
            }
        }
        return res;
    }

    /// <summary>Forward: dst = m ? fill : src. Backward (accumulate): dst += m ? 0 : src.</summary>
    static void MaskSelect<T>(ReadOnlySpan<T> src, ReadOnlySpan<int> m, Span<T> dst, double fill, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T f = T.CreateTruncating(fill);
        if (accumulate) { for (int i = 0; i < src.Length; i++) if (m[i] == 0) dst[i] += src[i]; }
        else for (int i = 0; i < src.Length; i++) dst[i] = m[i] != 0 ? f : src[i];
    }

    static void MaskSelectF32(ReadOnlySpan<float> src, ReadOnlySpan<int> m, Span<float> dst, float fill, bool accumulate)
    {
        int i = 0, n = src.Length;
        if (Vector512.IsHardwareAccelerated)
        {
            var vf = Vector512.Create(fill);
            for (; i + 16 <= n; i += 16)
            {
                var keep = Vector512.Equals(Vector512.Create(m.Slice(i, 16)), Vector512<int>.Zero).AsSingle();
                var v = Vector512.Create(src.Slice(i, 16));
                var r = accumulate ? Vector512.Create(dst.Slice(i, 16)) + (v & keep) : Vector512.ConditionalSelect(keep, v, vf);
                r.CopyTo(dst.Slice(i, 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vf = Vector256.Create(fill);
            for (; i + 8 <= n; i += 8)
            {
                var keep = Vector256.Equals(Vector256.Create(m.Slice(i, 8)), Vector256<int>.Zero).AsSingle();
                var v = Vector256.Create(src.Slice(i, 8));
                var r = accumulate ? Vector256.Create(dst.Slice(i, 8)) + (v & keep) : Vector256.ConditionalSelect(keep, v, vf);
                r.CopyTo(dst.Slice(i, 8));
            }
        }
        MaskSelect<float>(src[i..], m[i..], dst[i..], fill, accumulate);
    }

    [GradCases(Op = "masked_fill", Cpu = nameof(MaskedFill), Tolerance = ToleranceClass.Pointwise,
        Kernels = "ScalarKernels")]
    static IEnumerable<GradCase> MaskedFillCases()
    {
        yield return GradCase.Sized("masked_fill", [[3, 5]], (rng, dt, z) =>
        {
            var x = Tensor.Uniform(rng, z.Shape(3, 5), -1, 1, dt).RequireGrad();
            var m = z.Ints(rng, [0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2], 2, 3, 5);
            return new GradProblem([x], () => MaskedFill(x, m, -3.5));
        }, "(3,5) mask(3,5)");
        yield return GradCase.Sized("masked_fill_bcast", [[2, 2, 3, 5]], (rng, dt, z) =>
        {
            var x = Tensor.Uniform(rng, z.Shape(2, 2, 3, 5), -1, 1, dt).RequireGrad();
            var m = z.Ints(rng, [0, 0, 1, 0, 1, 1, 0, 0, 0, 0], 2, 2, 1, 1, 5);
            return new GradProblem([x], () => MaskedFill(x, m, 0.25));
        }, "(2,2,3,5) mask(2,1,1,5)");
        yield return GradCase.Sized("masked_fill_suffix", [[2, 3, 4]], (rng, dt, z) =>
        {
            var x = Tensor.Uniform(rng, z.Shape(2, 3, 4), -1, 1, dt).RequireGrad();
            var m = z.Ints(rng, [1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0], 2, 3, 4);
            return new GradProblem([x], () => MaskedFill(x, m, -5.0));   // a huge fill would swamp the finite differences
        }, "(2,3,4) mask(3,4)");
    }
}
