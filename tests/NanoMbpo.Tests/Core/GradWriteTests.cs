// The first-write gradient path (Tensor.GradForWrite): an op meeting a gradient for the first time
// writes it into an uninitialised buffer instead of zero-filling and adding. These tests make the
// two paths meet: an intermediate consumed by two ops (one writes, the other adds), a leaf whose
// gradient already exists from an earlier backward, and stale arena buffers handed out by
// Tensor.Empty. Each result is compared with a plain double reference loop.
using NanoMbpo.NN;
using Xunit;

namespace NanoMbpo.Tests.Core;

public class GradWriteTests
{
    // h = x·Wᵀ (2,3)·(4,3)ᵀ; L = mse(relu(h), t) + mse(h, t'): h's gradient is first written by one
    // consumer's backward and then accumulated by the other's, and x's by linear's dx GEMM (beta 0),
    // then again with beta 1 on a second backward.
    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F64)]
    public void WriteThenAccumulateMatchesReference(DType dt)
    {
        var rng = new Rng(4);
        var x = Tensor.Uniform(rng, [2, 3], -1, 1, dt).RequireGrad();
        var w = Tensor.Uniform(rng, [4, 3], -1, 1, dt).RequireGrad();
        var t1 = Tensor.Uniform(rng, [2, 4], -1, 1, dt);
        var t2 = Tensor.Uniform(rng, [2, 4], -1, 1, dt);
        double[] xs = x.ToDoubleArray(), ws = w.ToDoubleArray(), a = t1.ToDoubleArray(), b = t2.ToDoubleArray();

        // Reference: dL/dh = 2/8·[(relu(h) − t1)·1(h>0) + (h − t2)], dx = dh·W.
        var dh = new double[8];
        for (int r = 0; r < 2; r++)
            for (int o = 0; o < 4; o++)
            {
                double h = 0;
                for (int i = 0; i < 3; i++) h += xs[r * 3 + i] * ws[o * 3 + i];
                int k = r * 4 + o;
                dh[k] = 0.25 * ((h > 0 ? h - a[k] : 0) + (h - b[k]));
            }
        var dx = new double[6];
        for (int r = 0; r < 2; r++)
            for (int i = 0; i < 3; i++)
                for (int o = 0; o < 4; o++) dx[r * 3 + i] += dh[r * 4 + o] * ws[o * 3 + i];

        double tol = dt == DType.F32 ? 1e-6 : 1e-14;
        for (int pass = 1; pass <= 2; pass++)   // the second backward adds into x's existing gradient
        {
            var h = F.Linear(x, w);
            var loss = F.MseLoss(F.Relu(h), t1) + F.MseLoss(h, t2);
            loss.Backward();
            var got = x.Grad!.ToDoubleArray();
            for (int i = 0; i < 6; i++) Assert.Equal(pass * dx[i], got[i], tol);
        }
    }

    // Op outputs (Tensor.Empty) and a fresh leaf gradient come from arena arrays left full of NaN by
    // the previous scope; relu's forward and backward must overwrite every element.
    [Fact]
    public void StaleArenaBuffersDoNotLeakIntoResults()
    {
        var arena = new TensorArena();
        using (arena.Use())   // the same request sequence, then its two 2x2 arrays are poisoned
        {
            var x0 = Tensor.FromArray(new float[] { 5, 6, 7, 8 }, 2, 2).RequireGrad();
            var y0 = F.Relu(x0);
            F.SumAll(y0).Backward();
            y0.F32.Fill(float.NaN);
            x0.Grad!.F32.Fill(float.NaN);
        }
        var x = Tensor.FromArray(new float[] { -1, 2, -3, 4 }, 2, 2).RequireGrad();
        using (arena.Use())
        {
            var y = F.Relu(x);   // a poisoned array, not cleared
            F.SumAll(y).Backward();   // x.Grad: the other poisoned array, not cleared
            Assert.Equal(new float[] { 0, 2, 0, 4 }, y.ToFloatArray());
            Assert.Equal(new float[] { 0, 1, 0, 1 }, x.Grad!.ToFloatArray());
        }
        // No array was replaced (a replacement counts a miss without adding one), so y and x.Grad
        // really were the two poisoned arrays.
        Assert.Equal(arena.ArrayCount, arena.Misses);
    }
}
