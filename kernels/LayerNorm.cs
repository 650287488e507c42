// layer_norm over the last axis: y = (x - mean) * rstd * weight + bias, forward (saving mean and
// rstd per row) and backward: dx per row; dweight and dbias as column sums over rows in two stages
// (chunks of rows in parallel, then the chunks in order: deterministic, no atomics). Fast path (ForwardRows, BackwardInputRows): the
// row in registers (RowRegisters.cs), read once, mean then variance as two passes over registers
// (no E[x²] - E[x]² cancellation); rows too long for registers use the group-loop kernels.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.RowKernelTests"; bench: nanombpo bench gpu.
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

    /// <summary>Register-row forward; writes y, mean and rstd like <see cref="Forward"/>.</summary>
    public static void ForwardRows<TSlots, TLayout>(ArrayView<float> y /* (R,C) */, ArrayView<float> mean /* (R) */,
        ArrayView<float> rstd /* (R) */, ArrayView<float> x /* (R,C) */, ArrayView<float> weight /* (C) */,
        ArrayView<float> bias /* (C) */, int rows, int c, float eps) where TSlots : struct, IRowSlots where TLayout : struct, IRowLayout
    {
        var cur = RowCursor.Create<TSlots, TLayout>(rows, c, SharedMemory.Allocate<float>(GroupReduce.MaxWarps));
        int n = cur.Slots;
        var v = RowRegs.Load(cur, x, 0f);
        float mu = cur.Sum(v.Sum(n)) / c;
        float rs = XMath.Rsqrt(cur.Sum(v.Fold(n, 0f, new SquaredDeviationFold { Mu = mu, Cur = cur })) / c + eps);
        v.Map(n, new NormalizeMap { Mu = mu, Rs = rs, Weight = weight, Bias = bias, Cur = cur });
        v.Store(cur, y);
        if (cur.Active && cur.Lane == 0) { mean[cur.Row] = mu; rstd[cur.Row] = rs; }
    }

    /// <summary>Register-row dx; same formula as <see cref="BackwardInput"/>.</summary>
    public static void BackwardInputRows<TSlots, TLayout>(ArrayView<float> dx /* (R,C) */, ArrayView<float> dy /* (R,C) */,
        ArrayView<float> x /* (R,C) */, ArrayView<float> weight /* (C) */, ArrayView<float> mean /* (R) */,
        ArrayView<float> rstd /* (R) */, int rows, int c) where TSlots : struct, IRowSlots where TLayout : struct, IRowLayout
    {
        var cur = RowCursor.Create<TSlots, TLayout>(rows, c, SharedMemory.Allocate<float>(GroupReduce.MaxWarps));
        int n = cur.Slots;
        var g = RowRegs.Load(cur, dy, 0f);
        var xh = RowRegs.Load(cur, x, 0f);
        float mu = mean[cur.Row], rs = rstd[cur.Row];
        g.Map(n, new ScaleByWeightMap { Weight = weight, Cur = cur });
        xh.Map(n, new StandardizeMap { Mu = mu, Rs = rs });
        // Padding: g is 0 there, so neither sum sees it.
        float meanG = cur.Sum(g.Sum(n)) / c;
        float meanGX = cur.Sum(g.Fold(n, 0f, new RowDotFold { Other = xh })) / c;
        xh.Map(n, new InputGradMap { Rs = rs, MeanG = meanG, MeanGX = meanGX, G = g });
        xh.Store(cur, dx);
    }

    struct SquaredDeviationFold : IRowFold
    {
        public float Mu;
        public RowCursor Cur;
        public readonly float Fold(float acc, RowF4 v, int s)
        {
            var d = Cur.Mask(s, new RowF4 { X = v.X - Mu, Y = v.Y - Mu, Z = v.Z - Mu, W = v.W - Mu });
            return acc + ((d.X * d.X + d.Y * d.Y) + (d.Z * d.Z + d.W * d.W));
        }
    }

    struct NormalizeMap : IRowMap
    {
        public float Mu, Rs;
        public ArrayView<float> Weight, Bias;
        public RowCursor Cur;
        public readonly RowF4 Apply(RowF4 v, int s)
        {
            var w = Cur.Load(Weight, 0, s, 0f);
            var b = Cur.Load(Bias, 0, s, 0f);
            v.X = (v.X - Mu) * Rs * w.X + b.X; v.Y = (v.Y - Mu) * Rs * w.Y + b.Y;
            v.Z = (v.Z - Mu) * Rs * w.Z + b.Z; v.W = (v.W - Mu) * Rs * w.W + b.W;
            return v;
        }
    }

    struct ScaleByWeightMap : IRowMap
    {
        public ArrayView<float> Weight;
        public RowCursor Cur;
        public readonly RowF4 Apply(RowF4 v, int s)
        {
            var w = Cur.Load(Weight, 0, s, 0f);
            v.X *= w.X; v.Y *= w.Y; v.Z *= w.Z; v.W *= w.W;
            return v;
        }
    }

    struct StandardizeMap : IRowMap
    {
        public float Mu, Rs;
        public readonly RowF4 Apply(RowF4 v, int s)
        {
            v.X = (v.X - Mu) * Rs; v.Y = (v.Y - Mu) * Rs; v.Z = (v.Z - Mu) * Rs; v.W = (v.W - Mu) * Rs;
            return v;
        }
    }

    /// <summary>dx = rs (g - meanG - xhat meanGX) with xhat the slot value and g from G.</summary>
    struct InputGradMap : IRowMap
    {
        public float Rs, MeanG, MeanGX;
        public RowRegs G;
        public readonly RowF4 Apply(RowF4 xh, int s)
        {
            var g = G.Get(s);
            xh.X = Rs * (g.X - MeanG - xh.X * MeanGX); xh.Y = Rs * (g.Y - MeanG - xh.Y * MeanGX);
            xh.Z = Rs * (g.Z - MeanG - xh.Z * MeanGX); xh.W = Rs * (g.W - MeanG - xh.W * MeanGX);
            return xh;
        }
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

    /// <summary>Stage 1 of dweight/dbias: per chunk of rows, column sums of dy xhat and dy. A group
    /// covers one warp-wide block of columns (lane = column, coalesced rows); its warps take the
    /// chunk's rows in turn, then warp 0 adds the warps' sums in warp order (deterministic).
    /// Grid: (column blocks, chunks).</summary>
    public static void BackwardParamsPartial(ArrayView<float> partial /* (2, chunks, C) */, ArrayView<float> dy /* (R,C) */,
        ArrayView<float> x /* (R,C) */, ArrayView<float> mean /* (R) */, ArrayView<float> rstd /* (R) */,
        int r, int c, int rowsPerChunk)
    {
        var sw = SharedMemory.Allocate<float>(1024);
        var sb = SharedMemory.Allocate<float>(1024);
        int lanes = Warp.WarpSize, warps = Group.DimX / lanes;
        int col = Grid.IdxX * lanes + Warp.LaneIdx, chunk = Grid.IdxY, chunks = Grid.DimY;
        int r0 = chunk * rowsPerChunk, r1 = Math.Min(r, r0 + rowsPerChunk);
        float aw = 0f, ab = 0f;
        if (col < c)
            for (int i = r0 + Warp.WarpIdx; i < r1; i += warps)
            {
                long k = (long)i * c + col;
                float g = dy[k];
                aw += g * (x[k] - mean[i]) * rstd[i];
                ab += g;
            }
        sw[Group.IdxX] = aw;
        sb[Group.IdxX] = ab;
        Group.Barrier();
        if (Warp.WarpIdx == 0 && col < c)
        {
            float tw = 0f, tb = 0f;
            for (int w = 0; w < warps; w++) { tw += sw[w * lanes + Warp.LaneIdx]; tb += sb[w * lanes + Warp.LaneIdx]; }
            partial[(long)chunk * c + col] = tw;
            partial[(long)(chunks + chunk) * c + col] = tb;
        }
    }

    /// <summary>Stage 2, thread per column: dweight[j] and dbias[j] as the chunk sums in chunk order.</summary>
    public static void BackwardParams(Index1D j, ArrayView<float> dweight /* (C) */, ArrayView<float> dbias /* (C) */,
        ArrayView<float> partial /* (2, chunks, C) */, int chunks, int c)
    {
        float sw = 0f, sb = 0f;
        for (int k = 0; k < chunks; k++)
        {
            sw += partial[(long)k * c + j];
            sb += partial[(long)(chunks + k) * c + j];
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
        if (PlanRows(r, c, y, x, weight, bias) is { } plan)
        {
            var kr = RowKernel(typeof(LayerNormKernels), nameof(LayerNormKernels.ForwardRows), plan,
                (Accelerator a, Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                    ArrayView<float>, int, int, float> f) => a.LoadStreamKernel(f));
            kr(new KernelConfig(plan.Groups, plan.GroupSize), y, mean, rstd, x, weight, bias, r, c, eps);
            return;
        }
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
        if (PlanRows(r, c, dx, dy, x, weight) is { } plan)
        {
            var kr = RowKernel(typeof(LayerNormKernels), nameof(LayerNormKernels.BackwardInputRows), plan,
                (Accelerator a, Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                    ArrayView<float>, int, int> f) => a.LoadStreamKernel(f));
            kr(new KernelConfig(plan.Groups, plan.GroupSize), dx, dy, x, weight, mean, rstd, r, c);
        }
        else
        {
            var kx = Cache.Get("LayerNorm.BackwardInput", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(LayerNormKernels.BackwardInput));
            kx(new KernelConfig(r, RowGroupSize(c)), dx, dy, x, weight, mean, rstd, c);
        }
        // Up to 64 chunks of rows, so even a few hundred columns fill the GPU; sums stay in a fixed order.
        int chunks = Math.Clamp((r + 63) / 64, 1, 64), rowsPerChunk = (r + chunks - 1) / chunks;
        int lanes = WarpSize, group = Math.Max(lanes, Math.Min(256, Math.Min(MaxGroupSize, 1024)) / lanes * lanes);
        var partial = ParamScratch((long)2 * chunks * c);
        var kpp = Cache.Get("LayerNorm.BackwardParamsPartial", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LayerNormKernels.BackwardParamsPartial));
        kpp(new KernelConfig(new Index2D((c + lanes - 1) / lanes, chunks), new Index2D(group, 1)),
            partial, dy, x, mean, rstd, r, c, rowsPerChunk);
        var kp = Cache.Get("LayerNorm.BackwardParams", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, int, int>(LayerNormKernels.BackwardParams));
        kp(c, dweight, dbias, partial, chunks, c);
    }

    // One buffer per host thread: launches from one thread are ordered on the accelerator's stream,
    // but two threads sharing the accelerator (parallel test classes, say) must not share scratch.
    readonly ThreadLocal<MemoryBuffer1D<float, Stride1D.Dense>?> paramScratch = new();

    /// <summary>A device buffer of at least n floats, reused across this thread's calls: its launches
    /// are ordered on the stream, so the next call's stage 1 starts only after this call's stage 2.</summary>
    ArrayView<float> ParamScratch(long n)
    {
        var b = paramScratch.Value;
        if (b is null || b.Length < n)
        {
            if (b is not null)
            {
                Accelerator.Synchronize(); // earlier launches may still read the old buffer
                b.Dispose();
            }
            b = Accelerator.Allocate1D<float>(Math.Max(n, 4096));
            paramScratch.Value = b;
        }
        return b.View.SubView(0, n);
    }
}
