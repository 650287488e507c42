// Adam / AdamW step over one flat parameter buffer (all parameters concatenated), PyTorch semantics:
// Adam adds weight_decay * p to the gradient; AdamW (Decoupled) shrinks p by lr * weight_decay.
// Every coefficient (1 − β, lr / bias correction, ...) is computed by the host in double (AdamParams.For).
// Test: dotnet test --filter "FullyQualifiedName~Kernels.OptimizerKernelTests".
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>One step's coefficients, computed on the host in double and rounded once to float, exactly
/// as the CPU step (src/NanoMbpo/Optim/Adam.cs) rounds them: 1 − β in float32 would be off by up to
/// 5e-5 relative (1 − 0.999f), which moved exp_avg_sq by 1.3e-5 from torch's.</summary>
public struct AdamParams
{
    public float Beta1, Beta2, Eps;
    /// <summary>1 − β1 and 1 − β2, from double.</summary>
    public float OneMinusBeta1, OneMinusBeta2;
    /// <summary>lr / (1 − β1^t) and 1 / √(1 − β2^t) for the step being taken (t starts at 1).</summary>
    public float StepSize, InvSqrtBiasCorrection2;
    /// <summary>Adam's L2 coefficient added to the gradient (0 for AdamW) and AdamW's shrink factor 1 − lr·wd (1 for Adam).</summary>
    public float L2, Decay;

    public static AdamParams For(int step, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 0, bool decoupled = false)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "adam: step starts at 1 (bias corrections must be positive).");
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        return new()
        {
            Beta1 = (float)beta1, Beta2 = (float)beta2, Eps = (float)eps,
            OneMinusBeta1 = (float)(1 - beta1), OneMinusBeta2 = (float)(1 - beta2),
            StepSize = (float)(lr / bc1), InvSqrtBiasCorrection2 = (float)(1 / Math.Sqrt(bc2)),
            L2 = decoupled ? 0f : (float)weightDecay, Decay = decoupled ? (float)(1 - lr * weightDecay) : 1f,
        };
    }
}

public static class AdamKernels
{
    /// <summary>The CPU step's formula: g += L2·p; m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²;
    /// p = Decay·p − StepSize·m / (√v · InvSqrtBiasCorrection2 + eps).</summary>
    public static void Step(Index1D i, ArrayView<float> param, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> grad, AdamParams h)
    {
        float p = param[i];
        float g = h.L2 * p + grad[i];
        float mi = h.Beta1 * m[i] + h.OneMinusBeta1 * g;
        float vi = h.Beta2 * v[i] + h.OneMinusBeta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        float denom = XMath.Sqrt(vi) * h.InvSqrtBiasCorrection2 + h.Eps;
        param[i] = p * h.Decay - h.StepSize * mi / denom;
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>In-place Adam/AdamW update of param, m, v (all length n) from grad.</summary>
    public void AdamStep(ArrayView<float> param, ArrayView<float> m, ArrayView<float> v, ArrayView<float> grad, AdamParams h)
    {
        long n = param.Length;
        RequireLength(m, n, "adam", "m"); RequireLength(v, n, "adam", "v"); RequireLength(grad, n, "adam", "grad");
        Require(h.StepSize >= 0 && h.InvSqrtBiasCorrection2 > 0, "adam", "coefficients from AdamParams.For (step starts at 1)");
        var k = Cache.Get("Adam.Step", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, AdamParams>(AdamKernels.Step));
        k((int)n, param, m, v, grad, h);
    }
}
