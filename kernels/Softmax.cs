// Row-wise softmax and log_softmax over the last axis, forward and backward. Fast path (ForwardRows,
// BackwardRows): the row lives in registers (RowRegisters.cs), one warp per row for rows up to
// 4 * 8 * warp floats (1024 on CUDA) and one group per row beyond, float4 accesses when aligned:
// each element is read once and written once. Rows too long for registers use the group-loop
// kernels (Forward, Backward), which re-read the row from global memory per pass.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.RowKernelTests"; bench: nanombpo bench gpu.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static class SoftmaxKernels
{
    /// <summary>y = softmax(x) (log = 0) or log_softmax(x) (log = 1) per row.</summary>
    public static void Forward(ArrayView<float> y /* (R,C) */, ArrayView<float> x /* (R,C) */, int c, int log)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        long row = (long)Grid.IdxX * c;
        float m = float.NegativeInfinity;
        for (int j = Group.IdxX; j < c; j += Group.DimX) m = Math.Max(m, x[row + j]);
        m = GroupReduce.Max(m, scratch);
        float s = 0f;
        for (int j = Group.IdxX; j < c; j += Group.DimX) s += XMath.Exp(x[row + j] - m);
        s = GroupReduce.Sum(s, scratch);
        if (log != 0)
        {
            float lse = m + XMath.Log(s);
            for (int j = Group.IdxX; j < c; j += Group.DimX) y[row + j] = x[row + j] - lse;
        }
        else
        {
            float inv = 1f / s;
            for (int j = Group.IdxX; j < c; j += Group.DimX) y[row + j] = XMath.Exp(x[row + j] - m) * inv;
        }
    }

    /// <summary>Register-row forward: y = softmax(x) (log = 0) or log_softmax(x) (log = 1).</summary>
    public static void ForwardRows<TSlots, TLayout>(ArrayView<float> y /* (R,C) */, ArrayView<float> x /* (R,C) */,
        int rows, int c, int log) where TSlots : struct, IRowSlots where TLayout : struct, IRowLayout
    {
        var cur = RowCursor.Create<TSlots, TLayout>(rows, c, SharedMemory.Allocate<float>(GroupReduce.MaxWarps));
        int n = cur.Slots;
        // Missing elements read as -inf: they never win the max and exp(-inf - m) adds 0.
        var v = RowRegs.Load(cur, x, float.NegativeInfinity);
        float m = cur.Max(v.Max(n));
        if (log != 0)
        {
            float lse = m + XMath.Log(cur.Sum(v.Fold(n, 0f, new ExpSumFold { M = m })));
            v.Map(n, new RowAffineMap { A = 1f, B = -lse });
        }
        else
        {
            v.Map(n, new ExpMap { M = m });
            v.Map(n, new RowAffineMap { A = 1f / cur.Sum(v.Sum(n)), B = 0f });
        }
        v.Store(cur, y);
    }

    /// <summary>Register-row backward; same formulas as <see cref="Backward"/>.</summary>
    public static void BackwardRows<TSlots, TLayout>(ArrayView<float> dx /* (R,C) */, ArrayView<float> dy /* (R,C) */,
        ArrayView<float> y /* (R,C) */, int rows, int c, int log) where TSlots : struct, IRowSlots where TLayout : struct, IRowLayout
    {
        var cur = RowCursor.Create<TSlots, TLayout>(rows, c, SharedMemory.Allocate<float>(GroupReduce.MaxWarps));
        int n = cur.Slots;
        var g = RowRegs.Load(cur, dy, 0f);
        var p = RowRegs.Load(cur, y, 0f);
        if (log != 0)
        {
            p.Map(n, new LogSoftmaxGradMap { S = cur.Sum(g.Sum(n)), G = g });
        }
        else
        {
            p.Map(n, new SoftmaxGradMap { S = cur.Sum(g.Fold(n, 0f, new RowDotFold { Other = p })), G = g });
        }
        p.Store(cur, dx);
    }

    struct ExpSumFold : IRowFold
    {
        public float M;
        public readonly float Fold(float acc, RowF4 v, int s) =>
            acc + ((XMath.Exp(v.X - M) + XMath.Exp(v.Y - M)) + (XMath.Exp(v.Z - M) + XMath.Exp(v.W - M)));
    }

    struct ExpMap : IRowMap
    {
        public float M;
        public readonly RowF4 Apply(RowF4 v, int s)
        {
            v.X = XMath.Exp(v.X - M); v.Y = XMath.Exp(v.Y - M); v.Z = XMath.Exp(v.Z - M); v.W = XMath.Exp(v.W - M);
            return v;
        }
    }

    /// <summary>Softmax: dx = y (dy - s) with y the slot value and dy from G.</summary>
    struct SoftmaxGradMap : IRowMap
    {
        public float S;
        public RowRegs G;
        public readonly RowF4 Apply(RowF4 y, int s)
        {
            var g = G.Get(s);
            y.X *= g.X - S; y.Y *= g.Y - S; y.Z *= g.Z - S; y.W *= g.W - S;
            return y;
        }
    }

    /// <summary>log_softmax: dx = dy - exp(y) s.</summary>
    struct LogSoftmaxGradMap : IRowMap
    {
        public float S;
        public RowRegs G;
        public readonly RowF4 Apply(RowF4 y, int s)
        {
            var g = G.Get(s);
            y.X = g.X - XMath.Exp(y.X) * S; y.Y = g.Y - XMath.Exp(y.Y) * S;
            y.Z = g.Z - XMath.Exp(y.Z) * S; y.W = g.W - XMath.Exp(y.W) * S;
            return y;
        }
    }

    /// <summary>From the forward output y: softmax dx = y (dy - sum(dy y));
    /// log_softmax dx = dy - exp(y) sum(dy).</summary>
    public static void Backward(ArrayView<float> dx /* (R,C) */, ArrayView<float> dy /* (R,C) */,
        ArrayView<float> y /* (R,C) */, int c, int log)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        long row = (long)Grid.IdxX * c;
        float s = 0f;
        for (int j = Group.IdxX; j < c; j += Group.DimX)
            s += log != 0 ? dy[row + j] : dy[row + j] * y[row + j];
        s = GroupReduce.Sum(s, scratch);
        for (int j = Group.IdxX; j < c; j += Group.DimX)
        {
            long i = row + j;
            dx[i] = log != 0 ? dy[i] - XMath.Exp(y[i]) * s : y[i] * (dy[i] - s);
        }
    }
}

public sealed partial class KernelLauncher
{
    public void Softmax(ArrayView<float> y, ArrayView<float> x, int r, int c) => SoftmaxForward(y, x, r, c, false);

    public void LogSoftmax(ArrayView<float> y, ArrayView<float> x, int r, int c) => SoftmaxForward(y, x, r, c, true);

    public void SoftmaxBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> y, int r, int c) =>
        SoftmaxBackward(dx, dy, y, r, c, false);

    public void LogSoftmaxBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> y, int r, int c) =>
        SoftmaxBackward(dx, dy, y, r, c, true);

    void SoftmaxForward(ArrayView<float> y, ArrayView<float> x, int r, int c, bool log)
    {
        string op = log ? "log_softmax" : "softmax";
        RequireLength(x, (long)r * c, op, "x"); RequireLength(y, (long)r * c, op, "y");
        if (PlanRows(r, c, y, x) is { } plan)
        {
            var kr = RowKernel(typeof(SoftmaxKernels), nameof(SoftmaxKernels.ForwardRows), plan,
                (Accelerator a, Action<ArrayView<float>, ArrayView<float>, int, int, int> f) => a.LoadStreamKernel(f));
            kr(new KernelConfig(plan.Groups, plan.GroupSize), y, x, r, c, log ? 1 : 0);
            return;
        }
        var k = Cache.Get("Softmax.Forward", a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernels.Forward));
        k(new KernelConfig(r, RowGroupSize(c)), y, x, c, log ? 1 : 0);
    }

    void SoftmaxBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> y, int r, int c, bool log)
    {
        string op = log ? "log_softmax backward" : "softmax backward";
        RequireLength(dx, (long)r * c, op, "dx"); RequireLength(dy, (long)r * c, op, "dy"); RequireLength(y, (long)r * c, op, "y");
        if (PlanRows(r, c, dx, dy, y) is { } plan)
        {
            var kr = RowKernel(typeof(SoftmaxKernels), nameof(SoftmaxKernels.BackwardRows), plan,
                (Accelerator a, Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> f) => a.LoadStreamKernel(f));
            kr(new KernelConfig(plan.Groups, plan.GroupSize), dx, dy, y, r, c, log ? 1 : 0);
            return;
        }
        var k = Cache.Get("Softmax.Backward", a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernels.Backward));
        k(new KernelConfig(r, RowGroupSize(c)), dx, dy, y, c, log ? 1 : 0);
    }
}
