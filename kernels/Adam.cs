// Adam / AdamW step over one flat parameter buffer (all parameters concatenated), PyTorch semantics:
// Adam adds weight_decay * p to the gradient; AdamW (Decoupled) shrinks p by lr * weight_decay.
// Bias corrections 1 - beta^t are computed by the caller (host) and passed in.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.OptimizerKernelTests".
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public struct AdamParams
{
    public float Lr, Beta1, Beta2, Eps, WeightDecay;
    /// <summary>1 - Beta1^step and 1 - Beta2^step for the step being taken (step starts at 1).</summary>
    public float BiasCorrection1, BiasCorrection2;
    /// <summary>1 = AdamW (decoupled weight decay), 0 = Adam (L2 added to the gradient).</summary>
    public int Decoupled;

    public static AdamParams For(int step, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 0f, bool decoupled = false) => new()
    {
        Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Decoupled = decoupled ? 1 : 0,
        BiasCorrection1 = (float)(1 - Math.Pow(beta1, step)), BiasCorrection2 = (float)(1 - Math.Pow(beta2, step)),
    };
}

public static class AdamKernels
{
    public static void Step(Index1D i, ArrayView<float> param, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> grad, AdamParams h)
    {
        float p = param[i], g = grad[i];
        if (h.Decoupled != 0) p -= h.Lr * h.WeightDecay * p;
        else g += h.WeightDecay * p;
        float mi = h.Beta1 * m[i] + (1f - h.Beta1) * g;
        float vi = h.Beta2 * v[i] + (1f - h.Beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float denom = XMath.Sqrt(vi / h.BiasCorrection2) + h.Eps;
        param[i] = p - h.Lr * (mi / h.BiasCorrection1) / denom;
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>In-place Adam/AdamW update of param, m, v (all length n) from grad.</summary>
    public void AdamStep(ArrayView<float> param, ArrayView<float> m, ArrayView<float> v, ArrayView<float> grad, AdamParams h)
    {
        long n = param.Length;
        RequireLength(m, n, "adam", "m"); RequireLength(v, n, "adam", "v"); RequireLength(grad, n, "adam", "grad");
        Require(h.BiasCorrection1 > 0 && h.BiasCorrection2 > 0, "adam", "bias corrections must be positive (step starts at 1)");
        var k = Cache.Get("Adam.Step", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, AdamParams>(AdamKernels.Step));
        k((int)n, param, m, v, grad, h);
    }
}
