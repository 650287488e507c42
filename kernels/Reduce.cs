// Reductions: warp/group reduction helpers shared by the row kernels, reductions over the last axis
// (sum, mean, max with argmax) and their backward, and column sums over rows (bias grads).
// Test: dotnet test --filter "FullyQualifiedName~Kernels.ReduceKernelTests".
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>Warp and group reductions that read <c>Warp.WarpSize</c> and <c>Group.DimX</c>.
/// Group helpers need <c>Group.DimX</c> to be a multiple of the warp size and a shared scratch of
/// at least <see cref="MaxWarps"/> elements. Every thread receives the result. The cross-warp step
/// sums partials in warp order so results do not depend on scheduling.</summary>
public static class GroupReduce
{
    public const int MaxWarps = 64;

    public static float WarpSum(float v)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
            v += Warp.ShuffleXor(v, offset);
        return v;
    }

    public static float WarpMax(float v)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
            v = Math.Max(v, Warp.ShuffleXor(v, offset));
        return v;
    }

    public static int WarpMin(int v)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
            v = Math.Min(v, Warp.ShuffleXor(v, offset));
        return v;
    }

    public static float Sum(float v, ArrayView<float> scratch)
    {
        v = WarpSum(v);
        if (Warp.LaneIdx == 0) scratch[Warp.WarpIdx] = v;
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        float total = 0f;
        for (int w = 0; w < warps; w++) total += scratch[w];
        Group.Barrier(); // scratch may be reused right after
        return total;
    }

    public static float Max(float v, ArrayView<float> scratch)
    {
        v = WarpMax(v);
        if (Warp.LaneIdx == 0) scratch[Warp.WarpIdx] = v;
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        float best = float.NegativeInfinity;
        for (int w = 0; w < warps; w++) best = Math.Max(best, scratch[w]);
        Group.Barrier();
        return best;
    }

    public static int Min(int v, ArrayView<int> scratch)
    {
        v = WarpMin(v);
        if (Warp.LaneIdx == 0) scratch[Warp.WarpIdx] = v;
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        int best = int.MaxValue;
        for (int w = 0; w < warps; w++) best = Math.Min(best, scratch[w]);
        Group.Barrier();
        return best;
    }
}

public static class ReduceKernels
{
    /// <summary>One group per row: y[r] = scale * sum_c x[r, c]. scale = 1 (sum) or 1/C (mean).</summary>
    public static void SumLastAxis(ArrayView<float> y /* (R) */, ArrayView<float> x /* (R,C) */, int c, float scale)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int r = Grid.IdxX;
        long row = (long)r * c;
        float acc = 0f;
        for (int j = Group.IdxX; j < c; j += Group.DimX) acc += x[row + j];
        float total = GroupReduce.Sum(acc, scratch);
        if (Group.IdxX == 0) y[r] = total * scale;
    }

    /// <summary>One group per row: y[r] = max_c x[r, c]; argmax[r] = first index reaching it.</summary>
    public static void MaxLastAxis(ArrayView<float> y /* (R) */, ArrayView<int> argmax /* (R) */,
        ArrayView<float> x /* (R,C) */, int c)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        var iscratch = SharedMemory.Allocate<int>(GroupReduce.MaxWarps);
        int r = Grid.IdxX;
        long row = (long)r * c;
        float best = float.NegativeInfinity;
        for (int j = Group.IdxX; j < c; j += Group.DimX) best = Math.Max(best, x[row + j]);
        best = GroupReduce.Max(best, scratch);
        int first = int.MaxValue;
        for (int j = Group.IdxX; j < c; j += Group.DimX)
            if (x[row + j] == best) { first = j; break; }
        first = GroupReduce.Min(first, iscratch);
        if (Group.IdxX == 0) { y[r] = best; argmax[r] = first == int.MaxValue ? 0 : first; }
    }

    /// <summary>dx[r, c] = scale * dy[r] (sum: scale 1, mean: 1/C).</summary>
    public static void SumLastAxisBackward(Index1D i, ArrayView<float> dx /* (R,C) */, ArrayView<float> dy /* (R) */,
        int c, float scale) => dx[i] = dy[i / c] * scale;

    /// <summary>dx[r, c] = dy[r] where c == argmax[r], else 0.</summary>
    public static void MaxLastAxisBackward(Index1D i, ArrayView<float> dx /* (R,C) */, ArrayView<float> dy /* (R) */,
        ArrayView<int> argmax /* (R) */, int c)
    {
        int r = i / c;
        dx[i] = i - r * c == argmax[r] ? dy[r] : 0f;
    }

    /// <summary>Thread per column: y[c] = sum_r x[r, c] (bias gradient). Rows are summed in order,
    /// so the result is deterministic.</summary>
    public static void ColumnSum(Index1D j, ArrayView<float> y /* (C) */, ArrayView<float> x /* (R,C) */, int r, int c)
    {
        float acc = 0f;
        for (int i = 0; i < r; i++) acc += x[(long)i * c + (int)j];
        y[j] = acc;
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>y (R) = sum (or mean when <paramref name="mean"/>) over the last axis of x (R,C).</summary>
    public void SumLastAxis(ArrayView<float> y, ArrayView<float> x, int r, int c, bool mean = false)
    {
        RequireLength(x, (long)r * c, "sum", "x"); RequireLength(y, r, "sum", "y");
        var k = Cache.Get("Reduce.SumLastAxis", a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, float>(ReduceKernels.SumLastAxis));
        k(new KernelConfig(r, RowGroupSize(c)), y, x, c, mean ? 1f / c : 1f);
    }

    public void SumLastAxisBackward(ArrayView<float> dx, ArrayView<float> dy, int r, int c, bool mean = false)
    {
        RequireLength(dx, (long)r * c, "sum backward", "dx"); RequireLength(dy, r, "sum backward", "dy");
        var k = Cache.Get("Reduce.SumLastAxisBackward", a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(
                ReduceKernels.SumLastAxisBackward));
        k(r * c, dx, dy, c, mean ? 1f / c : 1f);
    }

    public void MaxLastAxis(ArrayView<float> y, ArrayView<int> argmax, ArrayView<float> x, int r, int c)
    {
        RequireLength(x, (long)r * c, "max", "x"); RequireLength(y, r, "max", "y");
        RequireLength(argmax, r, "max", "argmax");
        var k = Cache.Get("Reduce.MaxLastAxis", a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(ReduceKernels.MaxLastAxis));
        k(new KernelConfig(r, RowGroupSize(c)), y, argmax, x, c);
    }

    public void MaxLastAxisBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<int> argmax, int r, int c)
    {
        RequireLength(dx, (long)r * c, "max backward", "dx");
        var k = Cache.Get("Reduce.MaxLastAxisBackward", a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int>(
                ReduceKernels.MaxLastAxisBackward));
        k(r * c, dx, dy, argmax, c);
    }

    /// <summary>y (C) = column sums of x (R,C); the bias gradient of a bias add.</summary>
    public void ColumnSum(ArrayView<float> y, ArrayView<float> x, int r, int c)
    {
        RequireLength(x, (long)r * c, "column sum", "x"); RequireLength(y, c, "column sum", "y");
        var k = Cache.Get("Reduce.ColumnSum", a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ReduceKernels.ColumnSum));
        k(c, y, x, r, c);
    }
}
