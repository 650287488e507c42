// Row-wise softmax and log_softmax over the last axis, forward and backward. One group per row; the
// row max and sums use warp shuffles plus a cross-warp step in shared memory (GroupReduce).
// Test: dotnet test --filter "FullyQualifiedName~Kernels.RowKernelTests".
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
        var k = Cache.Get("Softmax.Forward", a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernels.Forward));
        k(new KernelConfig(r, RowGroupSize(c)), y, x, c, log ? 1 : 0);
    }

    void SoftmaxBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> y, int r, int c, bool log)
    {
        string op = log ? "log_softmax backward" : "softmax backward";
        RequireLength(dx, (long)r * c, op, "dx"); RequireLength(dy, (long)r * c, op, "dy"); RequireLength(y, (long)r * c, op, "y");
        var k = Cache.Get("Softmax.Backward", a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernels.Backward));
        k(new KernelConfig(r, RowGroupSize(c)), dx, dy, y, c, log ? 1 : 0);
    }
}
