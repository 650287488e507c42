// Parity tests for the row kernels (Softmax.cs, LayerNorm.cs) against double references, forward and
// backward, on the warp-32 and warp-4 CPU devices (catches warp-size assumptions) and CUDA if present.
using ILGPU.Runtime;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class RowKernelTests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    const double Tol = 1e-4;
    // Register-row kernels (RowRegisters.cs) by shape, warp 32 | warp 4: (3,5) scalar warp-per-row |
    // same; (5,64) float4 warp-per-row, 5 rows over groups of 4 warps | float4 warp, 4 slots;
    // (4,150) scalar warp, 2 slots | scalar group-per-row; (3,1100) float4 group-per-row | too long
    // for registers, group-loop kernel; (70,3) two row chunks for dweight/dbias.
    static readonly (int R, int C)[] Shapes = [(3, 5), (5, 64), (4, 150), (3, 1100), (70, 3)];

    [Fact] public void Softmax_CpuWarp32() => CheckSoftmax(fx.CpuWarp32);
    [Fact] public void Softmax_CpuWarp4() => CheckSoftmax(fx.CpuWarp4);
    [CudaFact] public void Softmax_Cuda() => CheckSoftmax(fx.Cuda);
    [Fact] public void LayerNorm_CpuWarp32() => CheckLayerNorm(fx.CpuWarp32);
    [Fact] public void LayerNorm_CpuWarp4() => CheckLayerNorm(fx.CpuWarp4);
    [CudaFact] public void LayerNorm_Cuda() => CheckLayerNorm(fx.Cuda);

    /// <summary>Views that start one float into their buffer are not 16-byte aligned: the launcher
    /// must take the scalar path (a float4 access there would be misaligned on CUDA) and agree with
    /// the aligned run.</summary>
    [Fact]
    public void MisalignedViews_MatchAligned()
    {
        var acc = fx.CpuWarp32;
        var k = KernelLauncher.For(acc);
        const int R = 3, C = 64, n = R * C;
        var x = Ref.Randn(n, 41, 3f);
        var w = Ref.Uniform(C, 42, 0.5f, 1.5f);
        var b = Ref.Randn(C, 43, 0.1f);
        var shifted = new float[n + 1];
        x.CopyTo(shifted, 1);
        using var bx = acc.Upload(x); using var bxs = acc.Upload(shifted);
        using var bw = acc.Upload(w); using var bb = acc.Upload(b);
        using var y = acc.Zeros<float>(n); using var ys = acc.Zeros<float>(n + 1);
        using var mean = acc.Zeros<float>(R); using var rstd = acc.Zeros<float>(R);
        var xs = bxs.View.SubView(1, n); var yv = ys.View.SubView(1, n);
        k.Softmax(y.View, bx.View, R, C);
        k.Softmax(yv, xs, R, C);
        Ref.AssertClose(y.Read(n).Select(v => (double)v).ToArray(), ys.Read(n + 1).AsSpan(1).ToArray(), 1e-6,
            "softmax on views at offset 1", floor: 1e-2);
        k.LayerNorm(y.View, mean.View, rstd.View, bx.View, bw.View, bb.View, R, C);
        k.LayerNorm(yv, mean.View, rstd.View, xs, bw.View, bb.View, R, C);
        Ref.AssertClose(y.Read(n).Select(v => (double)v).ToArray(), ys.Read(n + 1).AsSpan(1).ToArray(), 1e-6,
            "layer_norm on views at offset 1", floor: 1);
    }

    /// <summary>The launcher's choice for the benchmark shapes on a warp-32 device with 128-thread
    /// groups (the CUDA choice differs only where a group would exceed 128 threads).</summary>
    [Fact]
    public void PlanRows_PicksRegisterLayouts()
    {
        var k = KernelLauncher.For(fx.CpuWarp32);
        Assert.Equal(new RowPlan(1, false, true, 128, 3072), k.PlanRows(12288, 128));
        Assert.Equal(new RowPlan(2, false, true, 128, 6144), k.PlanRows(24576, 256));
        Assert.Equal(new RowPlan(4, false, true, 128, 12288), k.PlanRows(49152, 512));
        Assert.Equal(new RowPlan(6, false, true, 128, 8192), k.PlanRows(32768, 768));
        Assert.Equal(new RowPlan(8, true, true, 96, 8192), k.PlanRows(8192, 3072));
        Assert.Equal(new RowPlan(2, false, false, 128, 2), k.PlanRows(5, 150));
        Assert.Null(k.PlanRows(2, 40000));
    }

    static void CheckSoftmax(Accelerator acc)
    {
        var k = KernelLauncher.For(acc);
        foreach (var (R, C) in Shapes)
            foreach (bool log in new[] { false, true })
            {
                int n = R * C;
                var x = Ref.Randn(n, 21 + C, 4f);
                var dy = Ref.Randn(n, 22 + C);
                using var bx = acc.Upload(x); using var bdy = acc.Upload(dy);
                using var by = acc.Zeros<float>(n); using var bdx = acc.Zeros<float>(n);
                if (log) k.LogSoftmax(by.View, bx.View, R, C); else k.Softmax(by.View, bx.View, R, C);
                if (log) k.LogSoftmaxBackward(bdx.View, bdy.View, by.View, R, C);
                else k.SoftmaxBackward(bdx.View, bdy.View, by.View, R, C);
                var ey = new double[n]; var edx = new double[n];
                for (int r = 0; r < R; r++)
                {
                    double m = double.NegativeInfinity, s = 0;
                    for (int c = 0; c < C; c++) m = Math.Max(m, x[r * C + c]);
                    for (int c = 0; c < C; c++) s += Math.Exp(x[r * C + c] - m);
                    double lse = m + Math.Log(s), dot = 0, sdy = 0;
                    for (int c = 0; c < C; c++)
                    {
                        int i = r * C + c;
                        double p = Math.Exp(x[i] - lse);
                        ey[i] = log ? x[i] - lse : p;
                        dot += dy[i] * p; sdy += dy[i];
                    }
                    for (int c = 0; c < C; c++)
                    {
                        int i = r * C + c;
                        double p = Math.Exp(x[i] - lse);
                        edx[i] = log ? dy[i] - p * sdy : p * (dy[i] - dot);
                    }
                }
                string what = $"{(log ? "log_softmax" : "softmax")} ({R},{C})";
                Ref.AssertClose(ey, by.Read(n), Tol, what + " forward", floor: 1e-2);
                Ref.AssertClose(edx, bdx.Read(n), Tol, what + " backward", floor: 1e-2);
            }
    }

    static void CheckLayerNorm(Accelerator acc)
    {
        var k = KernelLauncher.For(acc);
        const float eps = 1e-5f;
        foreach (var (R, C) in Shapes)
        {
            int n = R * C;
            // Offset mean so a one-pass variance would lose digits.
            var x = Ref.Randn(n, 31 + C, 2f).Select(v => v + 3f).ToArray();
            var w = Ref.Uniform(C, 32, 0.5f, 1.5f);
            var b = Ref.Randn(C, 33, 0.1f);
            var dy = Ref.Randn(n, 34 + C);
            using var bx = acc.Upload(x); using var bw = acc.Upload(w); using var bb = acc.Upload(b); using var bdy = acc.Upload(dy);
            using var by = acc.Zeros<float>(n); using var bmean = acc.Zeros<float>(R); using var brstd = acc.Zeros<float>(R);
            using var bdx = acc.Zeros<float>(n); using var bdw = acc.Zeros<float>(C); using var bdb = acc.Zeros<float>(C);
            k.LayerNorm(by.View, bmean.View, brstd.View, bx.View, bw.View, bb.View, R, C, eps);
            k.LayerNormBackward(bdx.View, bdw.View, bdb.View, bdy.View, bx.View, bw.View, bmean.View, brstd.View, R, C);
            var ey = new double[n]; var edx = new double[n]; var edw = new double[C]; var edb = new double[C];
            var emean = new double[R]; var erstd = new double[R];
            for (int r = 0; r < R; r++)
            {
                double mu = 0, v = 0;
                for (int c = 0; c < C; c++) mu += x[r * C + c];
                mu /= C;
                for (int c = 0; c < C; c++) v += (x[r * C + c] - mu) * (x[r * C + c] - mu);
                double rs = 1 / Math.Sqrt(v / C + eps), mg = 0, mgx = 0;
                emean[r] = mu; erstd[r] = rs;
                for (int c = 0; c < C; c++)
                {
                    int i = r * C + c;
                    double xh = (x[i] - mu) * rs;
                    ey[i] = xh * w[c] + b[c];
                    mg += dy[i] * w[c]; mgx += dy[i] * w[c] * xh;
                    edw[c] += dy[i] * xh; edb[c] += dy[i];
                }
                mg /= C; mgx /= C;
                for (int c = 0; c < C; c++)
                {
                    int i = r * C + c;
                    double xh = (x[i] - mu) * rs;
                    edx[i] = rs * (dy[i] * w[c] - mg - xh * mgx);
                }
            }
            string what = $"layer_norm ({R},{C})";
            Ref.AssertClose(ey, by.Read(n), Tol, what + " forward", floor: 1);
            Ref.AssertClose(emean, bmean.Read(R), Tol, what + " mean", floor: 1);
            Ref.AssertClose(erstd, brstd.Read(R), Tol, what + " rstd", floor: 1);
            Ref.AssertClose(edx, bdx.Read(n), Tol, what + " dx", floor: 1);
            Ref.AssertClose(edw, bdw.Read(C), Tol, what + " dweight", floor: 1);
            Ref.AssertClose(edb, bdb.Read(C), Tol, what + " dbias", floor: 1);
        }
    }
}
