// GELU, exact (erf) form: gelu(x) = x/2 * (1 + erf(x/sqrt2)) = x/2 * erfc(-x/sqrt2), forward and backward.
// XMath has no erf, so erfc uses the Numerical Recipes Chebyshev fit (fractional error < 1.2e-7
// everywhere), which keeps relative accuracy for very negative x where 1 + erf cancels.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.ElementwiseKernelTests".
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public struct GeluOp : IUnaryOp
{
    const float InvSqrt2 = 0.70710678118654752f;
    const float InvSqrt2Pi = 0.39894228040143268f;

    public readonly float Forward(float x) => 0.5f * x * Erfc(-x * InvSqrt2);

    public readonly float Backward(float x, float y, float dy) =>
        dy * (0.5f * Erfc(-x * InvSqrt2) + x * InvSqrt2Pi * XMath.Exp(-0.5f * x * x));

    /// <summary>Complementary error function, fractional error below 1.2e-7 (Numerical Recipes erfcc).</summary>
    public static float Erfc(float x)
    {
        float z = Math.Abs(x);
        float t = 1f / (1f + 0.5f * z);
        float poly = -z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
            t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f +
            t * (-0.82215223f + t * 0.17087277f))))))));
        float ans = t * XMath.Exp(poly);
        return x >= 0f ? ans : 2f - ans;
    }
}

public sealed partial class KernelLauncher
{
    public void Gelu(ArrayView<float> y, ArrayView<float> x) => UnaryForward<GeluOp>(y, x);

    public void GeluBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x) =>
        UnaryBackward<GeluOp>(dx, dy, x, x); // gelu's derivative needs only x
}
