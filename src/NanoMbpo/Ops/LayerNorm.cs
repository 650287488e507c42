// LayerNorm over the last axis, as torch: y = (x − mean)/√(var + eps) ⊙ weight + bias with the
// biased variance (two-pass, so float32 keeps its precision). Forward saves each row's mean and
// 1/σ; backward recomputes x̂ in two fused passes and uses dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)), dx̂ = dy⊙weight,
// dweight += Σ dy⊙x̂, dbias += Σ dy. Gradient check: catalog "layer_norm*";
// tests: tests/NanoMbpo.Tests/Ops/LayerNormTests.cs; benchmark: bench/NanoMbpo.Bench/LayerNormBench.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>x (...,C) normalised over C, then scaled by weight (C) and shifted by bias (C) when given.</summary>
    public static Tensor LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps)
    {
        OpCheck.Float(x, "layer_norm", "x");
        if (x.Rank == 0) throw new ArgumentException($"layer_norm: x{x.ShapeString} needs at least one dimension.", nameof(x));
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), $"layer_norm: eps must be >= 0, got {eps}.");
        int C = x.Shape[^1];
        foreach (var (p, name) in new[] { (weight, "weight"), (bias, "bias") })
        {
            if (p is null) continue;
            OpCheck.SameDType(x, p, "layer_norm");
            if (p.Rank != 1 || p.Shape[0] != C)
                throw new ArgumentException($"layer_norm: '{name}'{p.ShapeString} must be ({C}) to match the last axis of x{x.ShapeString}.", name);
        }
        int rows = C == 0 ? 0 : x.Length / C;
        if (Dev.OnDevice("layer_norm", x, weight, bias)) return LayerNormOnDevice(x, weight, bias, eps, rows, C);
        var y = Tensor.Zeros(x.Shape, x.DType);
        var mean = NN.TensorArena.Scratch<double>(rows); var rstd = NN.TensorArena.Scratch<double>(rows);
        Cpu.CpuThreads.For(rows, Math.Max(1, Elementwise.Grain / Math.Max(1, C)), (r0, r1) =>
        {
            if (x.DType == DType.F32) LayerNormForward<float>(x.F32, weight is null ? default : weight.F32, bias is null ? default : bias.F32, y.F32, mean, rstd, C, eps, r0, r1);
            else LayerNormForward<double>(x.F64, weight is null ? default : weight.F64, bias is null ? default : bias.F64, y.F64, mean, rstd, C, eps, r0, r1);
        });
        Action<Tensor> backward = dy =>
        {
            if (x.DType == DType.F32) LayerNormBackward<float>(x, weight, bias, dy, mean, rstd, C, rows);
            else LayerNormBackward<double>(x, weight, bias, dy, mean, rstd, C, rows);
        };
        return weight is not null && bias is not null ? Autograd.Record(y, "layer_norm", backward, x, weight, bias)
             : Autograd.Record(y, "layer_norm", backward, [x, .. new[] { weight, bias }.OfType<Tensor>()]);
    }

    /// <summary>Device twin: row kernels for the forward (saving mean and 1/σ on the device) and for
    /// dx; a column kernel for dweight and dbias. A missing weight or bias becomes ones or zeros.</summary>
    static Tensor LayerNormOnDevice(Tensor x, Tensor? weight, Tensor? bias, double eps, int rows, int C)
    {
        Dev.F32("layer_norm", x, weight, bias);
        var d = x.Device;
        var l = Dev.L(d);
        var y = Dev.Empty(x.Shape, d);
        var mean = Dev.Empty([rows], d); var rstd = Dev.Empty([rows], d);
        var w = weight ?? Dev.Empty([C], d);
        if (weight is null) l.Fill(Dev.V(w), 1f);
        var b = bias ?? Tensor.Zeros([C], DType.F32, d);
        if (rows > 0 && C > 0) l.LayerNorm(Dev.V(y), Dev.V(mean), Dev.V(rstd), Dev.V(x), Dev.V(w), Dev.V(b), rows, C, (float)eps);
        Tensor[] inputs = [x, .. new[] { weight, bias }.OfType<Tensor>()];
        return Autograd.Record(y, "layer_norm", dy =>
        {
            if (rows == 0 || C == 0) return;
            bool needW = weight is not null && weight.RequiresGrad, needB = bias is not null && bias.RequiresGrad;
            // The kernel writes all three; gradients nobody needs go to scratch.
            using var sx = x.RequiresGrad ? Dev.Sink(x) : null;
            using var sw = needW ? Dev.Sink(weight!) : null;
            using var sb = needB ? Dev.Sink(bias!) : null;
            var dx = sx?.View ?? Dev.V(Dev.Empty(x.Shape, d));
            var dw = sw?.View ?? Dev.V(Dev.Empty([C], d));
            var db = sb?.View ?? Dev.V(Dev.Empty([C], d));
            l.LayerNormBackward(dx, dw, db, Dev.V(dy), Dev.V(x), Dev.V(w), Dev.V(mean), Dev.V(rstd), rows, C);
        }, inputs);
    }

    static void LayerNormForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y, double[] mean, double[] rstd,
        int C, double eps, int r0, int r1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = r0; r < r1; r++)
        {
            var xr = x.Slice(r * C, C); var yr = y.Slice(r * C, C);
            // Three passes (sum, squared deviations, fused normalise-scale-shift) and a single write.
            T mu = TensorPrimitives.Sum(xr) / T.CreateTruncating(C);
            T var = SumSquaredDeviations(xr, mu) / T.CreateTruncating(C);
            T rs = T.One / T.Sqrt(var + T.CreateTruncating(eps));
            mean[r] = double.CreateTruncating(mu); rstd[r] = double.CreateTruncating(rs);
            Normalize(xr, mu, rs, w, b, yr);
        }
    }

    /// <summary>Σ (x − mu)², vector lanes then a scalar tail (fixed order: deterministic).</summary>
    static T SumSquaredDeviations<T>(ReadOnlySpan<T> x, T mu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        ref T px = ref MemoryMarshal.GetReference(x);
        T s = T.Zero;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            var acc = Vector512<T>.Zero; var m = Vector512.Create(mu);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count) { var d = Vector512.LoadUnsafe(ref px, (nuint)i) - m; acc += d * d; }
            s = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            var acc = Vector256<T>.Zero; var m = Vector256.Create(mu);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count) { var d = Vector256.LoadUnsafe(ref px, (nuint)i) - m; acc += d * d; }
            s = Vector256.Sum(acc);
        }
        for (; i < n; i++) { T d = Unsafe.Add(ref px, i) - mu; s += d * d; }
        return s;
    }

    /// <summary>y = (x − mu)·rs ⊙ w + b in one pass; empty w / b mean 1 / 0.</summary>
    static void Normalize<T>(ReadOnlySpan<T> x, T mu, T rs, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        bool hasW = w.Length > 0, hasB = b.Length > 0;
        ref T px = ref MemoryMarshal.GetReference(x), py = ref MemoryMarshal.GetReference(y);
        ref T pw = ref MemoryMarshal.GetReference(w), pb = ref MemoryMarshal.GetReference(b);
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(mu); var r = Vector512.Create(rs);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var v = (Vector512.LoadUnsafe(ref px, (nuint)i) - m) * r;
                if (hasW) v *= Vector512.LoadUnsafe(ref pw, (nuint)i);
                if (hasB) v += Vector512.LoadUnsafe(ref pb, (nuint)i);
                v.StoreUnsafe(ref py, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mu); var r = Vector256.Create(rs);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = (Vector256.LoadUnsafe(ref px, (nuint)i) - m) * r;
                if (hasW) v *= Vector256.LoadUnsafe(ref pw, (nuint)i);
                if (hasB) v += Vector256.LoadUnsafe(ref pb, (nuint)i);
                v.StoreUnsafe(ref py, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T v = (Unsafe.Add(ref px, i) - mu) * rs;
            if (hasW) v *= Unsafe.Add(ref pw, i);
            if (hasB) v += Unsafe.Add(ref pb, i);
            Unsafe.Add(ref py, i) = v;
        }
    }

    static void LayerNormBackward<T>(Tensor x, Tensor? w, Tensor? b, Tensor dy, double[] mean, double[] rstd, int C, int rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xd = x.Data<T>(); var g = dy.Data<T>();
        bool needX = x.RequiresGrad, needW = w is not null && w.RequiresGrad, needB = b is not null && b.RequiresGrad;
        var dx = needX ? x.GradData<T>() : default;
        var dw = needW ? w!.GradData<T>() : default;
        var db = needB ? b!.GradData<T>() : default;
        var wd = w is null ? default : w.Data<T>();
        bool hasW = w is not null;
        // Serial over rows: dweight/dbias sum over rows in a fixed order (deterministic).
        for (int r = 0; r < rows; r++)
        {
            var xr = xd.Slice(r * C, C); var gr = g.Slice(r * C, C);
            T mu = T.CreateTruncating(mean[r]), rs = T.CreateTruncating(rstd[r]);
            // Pass 1: x̂ recomputed on the fly; Σ dx̂, Σ dx̂⊙x̂, and the dweight/dbias rows.
            var (s1, s2) = LayerNormBackwardSums(xr, gr, wd, mu, rs, dw, db, hasW, needW, needB);
            if (!needX) continue;
            // Pass 2: dx += rs·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)).
            T invC = T.One / T.CreateTruncating(C);
            LayerNormBackwardDx(xr, gr, wd, mu, rs, s1 * invC, s2 * invC, dx.Slice(r * C, C), hasW);
        }
    }

    static (T S1, T S2) LayerNormBackwardSums<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> g, ReadOnlySpan<T> w, T mu, T rs,
        Span<T> dw, Span<T> db, bool hasW, bool needW, bool needB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        ref T px = ref MemoryMarshal.GetReference(x), pg = ref MemoryMarshal.GetReference(g), pw = ref MemoryMarshal.GetReference(w);
        ref T pdw = ref MemoryMarshal.GetReference(dw), pdb = ref MemoryMarshal.GetReference(db);
        T s1 = T.Zero, s2 = T.Zero;
        if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            // One width only (Vector256) to keep this five-stream loop short; pass 2 has the Vector512 path.
            var a1 = Vector256<T>.Zero; var a2 = Vector256<T>.Zero; var m = Vector256.Create(mu); var r = Vector256.Create(rs);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var xh = (Vector256.LoadUnsafe(ref px, (nuint)i) - m) * r;
                var gv = Vector256.LoadUnsafe(ref pg, (nuint)i);
                var dxh = hasW ? gv * Vector256.LoadUnsafe(ref pw, (nuint)i) : gv;
                a1 += dxh; a2 += dxh * xh;
                if (needW) (Vector256.LoadUnsafe(ref pdw, (nuint)i) + gv * xh).StoreUnsafe(ref pdw, (nuint)i);
                if (needB) (Vector256.LoadUnsafe(ref pdb, (nuint)i) + gv).StoreUnsafe(ref pdb, (nuint)i);
            }
            s1 = Vector256.Sum(a1); s2 = Vector256.Sum(a2);
        }
        for (; i < n; i++)
        {
            T xh = (Unsafe.Add(ref px, i) - mu) * rs, gv = Unsafe.Add(ref pg, i), dxh = hasW ? gv * Unsafe.Add(ref pw, i) : gv;
            s1 += dxh; s2 += dxh * xh;
            if (needW) Unsafe.Add(ref pdw, i) += gv * xh;
            if (needB) Unsafe.Add(ref pdb, i) += gv;
        }
        return (s1, s2);
    }

    static void LayerNormBackwardDx<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> g, ReadOnlySpan<T> w, T mu, T rs, T m1, T m2,
        Span<T> dx, bool hasW) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        ref T px = ref MemoryMarshal.GetReference(x), pg = ref MemoryMarshal.GetReference(g), pw = ref MemoryMarshal.GetReference(w);
        ref T pd = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(mu); var r = Vector512.Create(rs); var c1 = Vector512.Create(m1); var c2 = Vector512.Create(m2);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var xh = (Vector512.LoadUnsafe(ref px, (nuint)i) - m) * r;
                var gv = Vector512.LoadUnsafe(ref pg, (nuint)i);
                var dxh = hasW ? gv * Vector512.LoadUnsafe(ref pw, (nuint)i) : gv;
                (Vector512.LoadUnsafe(ref pd, (nuint)i) + r * (dxh - c1 - xh * c2)).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mu); var r = Vector256.Create(rs); var c1 = Vector256.Create(m1); var c2 = Vector256.Create(m2);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var xh = (Vector256.LoadUnsafe(ref px, (nuint)i) - m) * r;
                var gv = Vector256.LoadUnsafe(ref pg, (nuint)i);
                var dxh = hasW ? gv * Vector256.LoadUnsafe(ref pw, (nuint)i) : gv;
                (Vector256.LoadUnsafe(ref pd, (nuint)i) + r * (dxh - c1 - xh * c2)).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T xh = (Unsafe.Add(ref px, i) - mu) * rs, gv = Unsafe.Add(ref pg, i), dxh = hasW ? gv * Unsafe.Add(ref pw, i) : gv;
            Unsafe.Add(ref pd, i) += rs * (dxh - m1 - xh * m2);
        }
    }

    [GradCases(Op = "layer_norm", Cpu = nameof(LayerNorm), Tolerance = ToleranceClass.Accumulating,
        Kernels = "LayerNormKernels ScalarKernels")]
    static IEnumerable<GradCase> LayerNormCases()
    {
        yield return GradCase.Simple("layer_norm", x => LayerNorm(x[0], x[1], x[2], 1e-5), [3, 5], [5], [5]);
        yield return GradCase.Simple("layer_norm_3d_bert_eps", x => LayerNorm(x[0], x[1], x[2], 1e-12), [2, 3, 4], [4], [4]);
        yield return GradCase.Simple("layer_norm_noaffine", x => LayerNorm(x[0], null, null, 1e-5), [4, 6]);
        yield return GradCase.Simple("layer_norm_weight_only", x => LayerNorm(x[0], x[1], null, 1e-5), [3, 4], [4]);
    }
}
