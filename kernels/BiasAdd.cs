// Broadcast bias add y (R,C) = x (R,C) + bias (C). Backward: dx = dy (the caller aliases or copies),
// dbias = column sums of dy (ReduceKernels.ColumnSum).
// Test: dotnet test --filter "FullyQualifiedName~Kernels.ReduceKernelTests".
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static class BiasAddKernels
{
    public static void Forward(Index1D i, ArrayView<float> y /* (R,C) */, ArrayView<float> x /* (R,C) */,
        ArrayView<float> bias /* (C) */, int c) => y[i] = x[i] + bias[i % c];
}

public sealed partial class KernelLauncher
{
    public void BiasAdd(ArrayView<float> y, ArrayView<float> x, ArrayView<float> bias, int r, int c)
    {
        RequireLength(x, (long)r * c, "bias_add", "x"); RequireLength(y, (long)r * c, "bias_add", "y");
        RequireLength(bias, c, "bias_add", "bias");
        var k = Cache.Get("BiasAdd.Forward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, int>(BiasAddKernels.Forward));
        k(r * c, y, x, bias, c);
    }

    /// <summary>dbias (C) = sum over rows of dy (R,C).</summary>
    public void BiasAddBackward(ArrayView<float> dbias, ArrayView<float> dy, int r, int c) => ColumnSum(dbias, dy, r, c);
}
