// Gradient-norm clipping over a store's flat gradient buffer (torch.nn.utils.clip_grad_norm_):
// the global L2 norm, and when it exceeds maxNorm every gradient is scaled by maxNorm/(norm + 1e-6).
// The norm sums squares in float32 SIMD blocks accumulated in double, in a fixed order (deterministic).
// Tests: tests/NanoMbpo.Tests/NN/OptimTests.cs.
using System.Numerics.Tensors;

namespace NanoMbpo.Optim;

public static class GradClip
{
    const int Block = 4096;

    /// <summary>Global L2 norm of all gradients in the store.</summary>
    public static double GradNorm(ParameterStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        double s = 0;
        if (store.DType == DType.F32)
        {
            var g = store.Grad<float>();
            for (int i = 0; i < g.Length; i += Block) s += TensorPrimitives.SumOfSquares(g.Slice(i, Math.Min(Block, g.Length - i)));
        }
        else s = TensorPrimitives.SumOfSquares<double>(store.Grad<double>());
        return Math.Sqrt(s);
    }

    /// <summary>Scales the gradients so their global norm is at most <paramref name="maxNorm"/>;
    /// returns the norm before clipping. A non-finite norm throws (a NaN would poison every weight).</summary>
    public static double ClipGradNorm(ParameterStore store, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"ClipGradNorm: maxNorm must be > 0, got {maxNorm}.");
        double norm = GradNorm(store);
        if (!double.IsFinite(norm)) throw new NonFiniteException($"ClipGradNorm: the gradient norm is {norm}.");
        if (norm > maxNorm)
        {
            double scale = maxNorm / (norm + 1e-6);
            if (store.DType == DType.F32) { var g = store.Grad<float>(); TensorPrimitives.Multiply(g, (float)scale, g); }
            else { var g = store.Grad<double>(); TensorPrimitives.Multiply(g, scale, g); }
        }
        return norm;
    }
}
