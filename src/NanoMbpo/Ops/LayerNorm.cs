// LayerNorm over the last axis, as torch: y = (x − mean)/√(var + eps) ⊙ weight + bias with the
// biased variance (two-pass, so float32 keeps its precision). Forward saves each row's mean and
// 1/σ; backward recomputes x̂ and uses dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)), dx̂ = dy⊙weight,
// dweight += Σ dy⊙x̂, dbias += Σ dy. Gradient check: catalog "layer_norm*";
// tests: tests/NanoMbpo.Tests/Ops/LayerNormTests.cs; benchmark: bench/NanoMbpo.Bench/LayerNormBench.cs.
using System.Numerics;
using System.Numerics.Tensors;

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
        var y = Tensor.Zeros(x.Shape, x.DType);
        var mean = new double[rows]; var rstd = new double[rows];
        Cpu.CpuThreads.For(rows, Math.Max(1, Elementwise.Grain / Math.Max(1, C)), (r0, r1) =>
        {
            if (x.DType == DType.F32) LayerNormForward<float>(x.F32, weight is null ? default : weight.F32, bias is null ? default : bias.F32, y.F32, mean, rstd, C, eps, r0, r1);
            else LayerNormForward<double>(x.F64, weight is null ? default : weight.F64, bias is null ? default : bias.F64, y.F64, mean, rstd, C, eps, r0, r1);
        });
        Tensor[] inputs = [x, .. new[] { weight, bias }.OfType<Tensor>()];
        return Autograd.Record(y, "layer_norm", dy =>
        {
            if (x.DType == DType.F32) LayerNormBackward<float>(x, weight, bias, dy, mean, rstd, C, rows);
            else LayerNormBackward<double>(x, weight, bias, dy, mean, rstd, C, rows);
        }, inputs);
    }

    static void LayerNormForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y, double[] mean, double[] rstd,
        int C, double eps, int r0, int r1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool hasW = w.Length > 0, hasB = b.Length > 0;
        for (int r = r0; r < r1; r++)
        {
            var xr = x.Slice(r * C, C); var yr = y.Slice(r * C, C);
            T mu = TensorPrimitives.Sum(xr) / T.CreateTruncating(C);
            TensorPrimitives.Subtract(xr, mu, yr);
            T var = TensorPrimitives.SumOfSquares<T>(yr) / T.CreateTruncating(C);
            T rs = T.One / T.Sqrt(var + T.CreateTruncating(eps));
            mean[r] = double.CreateTruncating(mu); rstd[r] = double.CreateTruncating(rs);
            TensorPrimitives.Multiply(yr, rs, yr);
            if (hasW)
            {
                if (hasB) TensorPrimitives.MultiplyAdd(yr, w, b, yr);
                else TensorPrimitives.Multiply(yr, w, yr);
            }
            else if (hasB) TensorPrimitives.Add(yr, b, yr);
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
        var xhat = new T[C]; var dxhat = new T[C];
        T invC = T.One / T.CreateTruncating(C);
        // Serial over rows: dweight/dbias sum over rows in a fixed order (deterministic).
        for (int r = 0; r < rows; r++)
        {
            var gr = g.Slice(r * C, C);
            T mu = T.CreateTruncating(mean[r]), rs = T.CreateTruncating(rstd[r]);
            TensorPrimitives.Subtract(xd.Slice(r * C, C), mu, xhat);
            TensorPrimitives.Multiply(xhat, rs, xhat);
            if (needW) TensorPrimitives.MultiplyAdd(gr, xhat, dw, dw);
            if (needB) TensorPrimitives.Add(db, gr, db);
            if (!needX) continue;
            if (w is not null) TensorPrimitives.Multiply(gr, wd, dxhat); else gr.CopyTo(dxhat);
            T m1 = TensorPrimitives.Sum<T>(dxhat) * invC, m2 = TensorPrimitives.Dot<T>(dxhat, xhat) * invC;
            TensorPrimitives.Subtract(dxhat, m1, dxhat);
            TensorPrimitives.MultiplyAdd(xhat, -m2, dxhat, dxhat);
            var dr = dx.Slice(r * C, C);
            TensorPrimitives.MultiplyAdd(dxhat, rs, dr, dr);
        }
    }

    [GradCases]
    static IEnumerable<GradCase> LayerNormCases()
    {
        yield return GradCase.Simple("layer_norm", x => LayerNorm(x[0], x[1], x[2], 1e-5), [3, 5], [5], [5]);
        yield return GradCase.Simple("layer_norm_3d_bert_eps", x => LayerNorm(x[0], x[1], x[2], 1e-12), [2, 3, 4], [4], [4]);
        yield return GradCase.Simple("layer_norm_noaffine", x => LayerNorm(x[0], null, null, 1e-5), [4, 6]);
        yield return GradCase.Simple("layer_norm_weight_only", x => LayerNorm(x[0], x[1], null, 1e-5), [3, 4], [4]);
    }
}
