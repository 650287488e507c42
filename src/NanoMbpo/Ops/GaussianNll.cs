// Gaussian negative log-likelihood from (mean, log-variance): mean(0.5·(logVar + (target−mean)²·
// exp(−logVar))), no constant term. With d = target − mean and w = exp(−logVar), per element /n·g:
//   dmean = −d·w, dlogVar = 0.5·(1 − d²·w), dtarget = d·w.
// A non-finite loss throws NonFiniteException naming "gaussian_nll". Gradient check: catalog
// "gaussian_nll*"; tests: tests/NanoMbpo.Tests/Ops/LossOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>mean(0.5·(logVar + (target − mean)²·exp(−logVar))) over all elements → shape ().
    /// All three inputs share one shape.</summary>
    public static Tensor GaussianNll(Tensor mean, Tensor logVar, Tensor target)
    {
        const string op = "gaussian_nll";
        OpCheck.Float(mean, op, "mean"); OpCheck.SameDType(mean, logVar, op); OpCheck.SameDType(mean, target, op);
        if (!ShapeUtil.Same(mean.Shape, logVar.Shape))
            throw new ArgumentException($"{op}: logVar{logVar.ShapeString} must have mean's shape {mean.ShapeString}.", nameof(logVar));
        if (!ShapeUtil.Same(mean.Shape, target.Shape))
            throw new ArgumentException($"{op}: target{target.ShapeString} must have mean's shape {mean.ShapeString}.", nameof(target));
        int n = mean.Length;
        if (Dev.OnDevice(op, mean, logVar, target)) return GaussianNllOnDevice(mean, logVar, target);
        var d = Tensor.Zeros(mean.Shape, mean.DType);   // target − mean
        var w = Tensor.Zeros(mean.Shape, mean.DType);   // exp(−logVar)
        var y = Tensor.Zeros([], mean.DType);
        if (mean.DType == DType.F32) y.F32[0] = (float)(NllForward<float>(mean.F32, logVar.F32, target.F32, d.F32, w.F32) / n);
        else y.F64[0] = NllForward<double>(mean.F64, logVar.F64, target.F64, d.F64, w.F64) / n;
        y.CheckFinite(op);
        return Autograd.Record(y, op, dy =>
        {
            if (mean.DType == DType.F32) NllBackward<float>(mean, logVar, target, d.F32, w.F32, dy.F32[0] / n);
            else NllBackward<double>(mean, logVar, target, d.F64, w.F64, dy.F64[0] / n);
        }, mean, logVar, target);
    }

    /// <summary>Device twin composed of device ops: 0.5·mean(logVar + (target − mean)²·exp(−logVar)).</summary>
    static Tensor GaussianNllOnDevice(Tensor mean, Tensor logVar, Tensor target)
    {
        var d = Sub(target, mean);
        var y = MulScalar(MeanAll(Add(logVar, Mul(Mul(d, d), Exp(Neg(logVar))))), 0.5);
        y.CheckFinite("gaussian_nll");
        return y;
    }

    static double NllForward<T>(ReadOnlySpan<T> m, ReadOnlySpan<T> lv, ReadOnlySpan<T> t, Span<T> d, Span<T> w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Subtract(t, m, d);
        TensorPrimitives.Negate(lv, w);
        TensorPrimitives.Exp<T>(w, w);
        // Per chunk: Σ logVar + Σ d²·w, accumulated in double across chunks.
        Span<T> tmp = stackalloc T[256];
        double s = 0;
        for (int i = 0; i < m.Length; i += tmp.Length)
        {
            int len = Math.Min(tmp.Length, m.Length - i);
            var tt = tmp[..len];
            TensorPrimitives.Multiply(d.Slice(i, len), d.Slice(i, len), tt);
            s += double.CreateTruncating(TensorPrimitives.Dot<T>(tt, w.Slice(i, len)) + TensorPrimitives.Sum(lv.Slice(i, len)));
        }
        return 0.5 * s;
    }

    static void NllBackward<T>(Tensor mean, Tensor logVar, Tensor target, ReadOnlySpan<T> d, ReadOnlySpan<T> w, T coef) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dw = NN.TensorArena.Scratch<T>(d.Length);
        TensorPrimitives.Multiply(d, w, dw);
        if (logVar.RequiresGrad)
        {
            T half = T.CreateTruncating(0.5) * coef;
            var g = logVar.GradData<T>();
            var d2w = NN.TensorArena.Scratch<T>(d.Length);
            TensorPrimitives.Multiply(d, dw, d2w);
            TensorPrimitives.MultiplyAdd(d2w, -half, g, g);
            TensorPrimitives.Add(g, half, g);
        }
        if (mean.RequiresGrad) { var g = mean.GradData<T>(); TensorPrimitives.MultiplyAdd(dw, -coef, g, g); }
        if (target.RequiresGrad) { var g = target.GradData<T>(); TensorPrimitives.MultiplyAdd(dw, coef, g, g); }
    }

    [GradCases(Op = "gaussian_nll", Cpu = nameof(GaussianNll), Tolerance = ToleranceClass.Accumulating,
        Composite = "exp, sub, mul and mean on the device")]
    static IEnumerable<GradCase> GaussianNllCases()
    {
        yield return GradCase.Simple("gaussian_nll", x => GaussianNll(x[0], x[1], x[2]), [3, 4], [3, 4], [3, 4]);
        yield return GradCase.Ranged("gaussian_nll_wide_logvar", -2, 2, x => GaussianNll(x[0], x[1], x[2]), [2, 3, 3], [2, 3, 3], [2, 3, 3]);
    }
}
