// MSE loss: mean((pred − target)²) → scalar, gradients to both inputs: dpred = 2(pred−target)/n·g,
// dtarget = −dpred. The difference is kept from the forward. A non-finite loss throws
// NonFiniteException naming "mse_loss". Gradient check: catalog "mse_loss*"; tests:
// tests/NanoMbpo.Tests/Ops/LossOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>mean((pred − target)²) over all elements → shape ().</summary>
    public static Tensor MseLoss(Tensor pred, Tensor target)
    {
        OpCheck.Float(pred, "mse_loss", "pred"); OpCheck.Float(target, "mse_loss", "target");
        OpCheck.SameDType(pred, target, "mse_loss");
        if (!ShapeUtil.Same(pred.Shape, target.Shape))
            throw new ArgumentException($"mse_loss: target{target.ShapeString} must have pred's shape {pred.ShapeString}.", nameof(target));
        if (Dev.OnDevice("mse_loss", pred, target)) return MseLossOnDevice(pred, target);
        var diff = Tensor.Empty(pred.Shape, pred.DType);   // both fully written below
        var y = Tensor.Empty([], pred.DType);
        int n = pred.Length;
        if (pred.DType == DType.F32)
        {
            TensorPrimitives.Subtract(pred.F32, target.F32, diff.F32);
            y.F32[0] = (float)(MseSumSquares(diff.F32) / n);
        }
        else
        {
            TensorPrimitives.Subtract(pred.F64, target.F64, diff.F64);
            y.F64[0] = TensorPrimitives.SumOfSquares<double>(diff.F64) / n;
        }
        y.CheckFinite("mse_loss");
        return Autograd.Record(y, "mse_loss", dy =>
        {
            if (pred.DType == DType.F32) MseBackward<float>(pred, target, diff.F32, dy.F32[0] * 2f / n);
            else MseBackward<double>(pred, target, diff.F64, dy.F64[0] * 2.0 / n);
        }, pred, target);
    }

    /// <summary>Device twin composed of device ops: mean((pred − target)²); autograd flows through
    /// sub, mul and mean. The finiteness check reads the one-element loss back.</summary>
    static Tensor MseLossOnDevice(Tensor pred, Tensor target)
    {
        var diff = Sub(pred, target);
        var y = MeanAll(Mul(diff, diff));
        y.CheckFinite("mse_loss");
        return y;
    }

    /// <summary>Σx² in float32 SIMD chunks, each chunk summed into a double (large n stays accurate).</summary>
    static double MseSumSquares(ReadOnlySpan<float> x)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i += 4096) s += TensorPrimitives.SumOfSquares(x.Slice(i, Math.Min(4096, x.Length - i)));
        return s;
    }

    static void MseBackward<T>(Tensor pred, Tensor target, ReadOnlySpan<T> diff, T coef) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // A gradient met for the first time is written (no zero fill), otherwise added to.
        if (pred.RequiresGrad)
        {
            var g = pred.GradForWrite<T>(out bool acc);
            if (acc) TensorPrimitives.MultiplyAdd(diff, coef, g, g); else TensorPrimitives.Multiply(diff, coef, g);
        }
        if (target.RequiresGrad)
        {
            var g = target.GradForWrite<T>(out bool acc);
            if (acc) TensorPrimitives.MultiplyAdd(diff, -coef, g, g); else TensorPrimitives.Multiply(diff, -coef, g);
        }
    }

    [GradCases(Op = "mse_loss", Cpu = nameof(MseLoss), Tolerance = ToleranceClass.Accumulating,
        Composite = "sub, mul and mean on the device")]
    static IEnumerable<GradCase> MseCases()
    {
        yield return GradCase.Simple("mse_loss", x => MseLoss(x[0], x[1]), [3, 4], [3, 4]);
        yield return GradCase.Simple("mse_loss_3d_odd", x => MseLoss(x[0], x[1]), [2, 3, 5], [2, 3, 5]);
    }
}
