// layer_norm over the last axis: y = (x - mean) * rstd * weight + bias, forward (saving mean and
// rstd per row) and backward: dx per row with group reductions; dweight and dbias as column sums
// over rows (thread per column, rows in order: deterministic, no atomics).
// Test: dotnet test --filter "FullyQualifiedName~Kernels.RowKernelTests".
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static class LayerNormKernels
{
    public static void Forward(ArrayView<float> y /* (R,C) */, ArrayView<float> mean /* (R) */,
        ArrayView<float> rstd /* (R) */, ArrayView<float> x /* (R,C) */, ArrayView<float> weight /* (C) */,
        ArrayView<float> bias /* (C) */, int c, float eps)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int r = Grid.IdxX;
        long row = (long)r * c;
        float s = 0f;
        for (int j = Group.IdxX; j < c; j += Group.DimX) s += x[row + j];
        float mu = GroupReduce.Sum(s, scratch) / c;
        // Two-pass variance: no cancellation when |mean| >> std.
        float v = 0f;
        for (int j = Group.IdxX; j < c; j += Group.DimX) { float d = x[row + j] - mu; v += d * d; }
        float rs = XMath.Rsqrt(GroupReduce.Sum(v, scratch) / c + eps);
        for (int j = Group.IdxX; j < c; j += Group.DimX)
            y[row + j] = (x[row + j] - mu) * rs * weight[j] + bias[j];
        if (Group.IdxX == 0) { mean[r] = mu; rstd[r] = rs; }
    }

    /// <summary>dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * weight.</summary>
    public static void BackwardInput(ArrayView<float> dx /* (R,C) */, ArrayView<float> dy /* (R,C) */,
        ArrayView<float> x /* (R,C) */, ArrayView<float> weight /* (C) */, ArrayView<float> mean /* (R) */,
        ArrayView<float> rstd /* (R) */, int c)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int r = Grid.IdxX;
        long row = (long)r * c;
        float mu = mean[r], rs = rstd[r];
        float sg = 0f, sgx = 0f;
        for (int j = Group.IdxX; j < c; j += Group.DimX)
        {
            float g = dy[row + j] * weight[j];
            sg += g;
            sgx += g * (x[row + j] - mu) * rs;
        }
        float meanG = GroupReduce.Sum(sg, scratch) / c;
        float meanGX = GroupReduce.Sum(sgx, scratch) / c;
        for (int j = Group.IdxX; j < c; j += Group.DimX)
        {
            float xhat = (x[row + j] - mu) * rs;
            dx[row + j] = rs * (dy[row + j] * weight[j] - meanG - xhat * meanGX);
        }
    }

    /// <summary>Thread per column: dweight[c] = sum_r dy xhat, dbias[c] = sum_r dy.</summary>
    public static void BackwardParams(Index1D j, ArrayView<float> dweight /* (C) */, ArrayView<float> dbias /* (C) */,
        ArrayView<float> dy /* (R,C) */, ArrayView<float> x /* (R,C) */, ArrayView<float> mean /* (R) */,
        ArrayView<float> rstd /* (R) */, int r, int c)
    {
        float sw = 0f, sb = 0f;
        for (int i = 0; i < r; i++)
        {
            long k = (long)i * c + (int)j;
            float g = dy[k];
            sw += g * (x[k] - mean[i]) * rstd[i];
            sb += g;
        }
        dweight[j] = sw;
        dbias[j] = sb;
    }
}

public sealed partial class KernelLauncher
{
    public void LayerNorm(ArrayView<float> y, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> x,
        ArrayView<float> weight, ArrayView<float> bias, int r, int c, float eps = 1e-5f)
    {
        const string op = "layer_norm";
        RequireLength(x, (long)r * c, op, "x"); RequireLength(y, (long)r * c, op, "y");
        RequireLength(mean, r, op, "mean"); RequireLength(rstd, r, op, "rstd");
        RequireLength(weight, c, op, "weight"); RequireLength(bias, c, op, "bias");
        var k = Cache.Get("LayerNorm.Forward", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(LayerNormKernels.Forward));
        k(new KernelConfig(r, RowGroupSize(c)), y, mean, rstd, x, weight, bias, c, eps);
    }

    /// <summary>Writes dx (R,C), dweight (C) and dbias (C) (overwritten, not accumulated).</summary>
    public void LayerNormBackward(ArrayView<float> dx, ArrayView<float> dweight, ArrayView<float> dbias,
        ArrayView<float> dy, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> mean,
        ArrayView<float> rstd, int r, int c)
    {
        const string op = "layer_norm backward";
        RequireLength(dx, (long)r * c, op, "dx"); RequireLength(dy, (long)r * c, op, "dy"); RequireLength(x, (long)r * c, op, "x");
        RequireLength(dweight, c, op, "dweight"); RequireLength(dbias, c, op, "dbias"); RequireLength(weight, c, op, "weight");
        RequireLength(mean, r, op, "mean"); RequireLength(rstd, r, op, "rstd");
        var kx = Cache.Get("LayerNorm.BackwardInput", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(LayerNormKernels.BackwardInput));
        kx(new KernelConfig(r, RowGroupSize(c)), dx, dy, x, weight, mean, rstd, c);
        var kp = Cache.Get("LayerNorm.BackwardParams", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(
            LayerNormKernels.BackwardParams));
        kp(c, dweight, dbias, dy, x, mean, rstd, r, c);
    }
}
