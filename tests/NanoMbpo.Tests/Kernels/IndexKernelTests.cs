// Parity tests for Embedding.cs (gather rows, atomic scatter-add backward with repeated tokens) and
// Gather.cs (gather along the last axis with repeated indices), forward and backward, and Slice.cs
// (the window copy behind slice and concat).
using ILGPU.Runtime;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class IndexKernelTests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    [Fact] public void EmbeddingAndGather_CpuWarp32() => Check(fx.CpuWarp32);
    [CudaFact] public void EmbeddingAndGather_Cuda() => Check(fx.Cuda);
    [Fact] public void WindowCopy_CpuWarp4() => CheckWindow(fx.CpuWarp4);
    [CudaFact] public void WindowCopy_Cuda() => CheckWindow(fx.Cuda);

    /// <summary>Slice.cs: a window of the middle axis copied out (forward) and added back (backward),
    /// at sizes that fit no group evenly; the rest of the destination is untouched.</summary>
    static void CheckWindow(Accelerator acc)
    {
        var kl = KernelLauncher.For(acc);
        const int O = 3, N = 7, I = 5, Start = 2, Len = 4;
        var x = Ref.Randn(O * N * I, 81);
        var dy = Ref.Randn(O * Len * I, 82);
        var dx0 = Ref.Randn(O * N * I, 83);
        using var bx = acc.Upload(x); using var by = acc.Zeros<float>(O * Len * I);
        using var bdy = acc.Upload(dy); using var bdx = acc.Upload(dx0);
        kl.WindowCopy(by.View, bx.View, O, I, N, Start, Len, 0, Len, accumulate: false);
        kl.WindowCopy(bdx.View, bdy.View, O, I, Len, 0, N, Start, Len, accumulate: true);
        var ey = new double[O * Len * I]; var edx = dx0.Select(v => (double)v).ToArray();
        for (int o = 0; o < O; o++)
            for (int j = 0; j < Len; j++)
                for (int i = 0; i < I; i++)
                {
                    ey[(o * Len + j) * I + i] = x[(o * N + Start + j) * I + i];
                    edx[(o * N + Start + j) * I + i] += dy[(o * Len + j) * I + i];
                }
        Ref.AssertClose(ey, by.Read(O * Len * I), 1e-6, "window copy forward");
        Ref.AssertClose(edx, bdx.Read(O * N * I), 1e-6, "window copy backward");
        Assert.Throws<ArgumentException>(() => kl.WindowCopy(by.View, bx.View, O, I, N, 5, Len, 0, Len, accumulate: false));
    }

    static void Check(Accelerator acc)
    {
        var kl = KernelLauncher.For(acc);
        const int V = 11, C = 13, N = 19;
        var w = Ref.Randn(V * C, 71);
        var tokens = new int[N];
        for (int i = 0; i < N; i++) tokens[i] = (i * 7 + 3) % V; // 19 tokens over 11 rows: repeats
        var dout = Ref.Randn(N * C, 72);
        var dw0 = Ref.Randn(V * C, 73); // backward accumulates into an existing gradient
        using var bw = acc.Upload(w); using var bt = acc.Upload(tokens); using var bout = acc.Zeros<float>(N * C);
        using var bdout = acc.Upload(dout); using var bdw = acc.Upload(dw0);
        kl.Embedding(bout.View, bw.View, bt.View, N, V, C);
        kl.EmbeddingBackward(bdw.View, bdout.View, bt.View, N, V, C);
        var eout = new double[N * C]; var edw = dw0.Select(v => (double)v).ToArray();
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++) { eout[n * C + c] = w[tokens[n] * C + c]; edw[tokens[n] * C + c] += dout[n * C + c]; }
        Ref.AssertClose(eout, bout.Read(N * C), 1e-5, "embedding forward");
        Ref.AssertClose(edw, bdw.Read(V * C), 1e-4, "embedding backward", floor: 1);

        const int R = 5, CX = 9, K = 6;
        var x = Ref.Randn(R * CX, 74);
        var idx = new int[R * K];
        for (int i = 0; i < R * K; i++) idx[i] = (i * 5 + 1) % CX;
        idx[1] = idx[0]; // a repeated index within row 0
        var gdout = Ref.Randn(R * K, 75);
        using var bx = acc.Upload(x); using var bidx = acc.Upload(idx); using var bg = acc.Zeros<float>(R * K);
        using var bgd = acc.Upload(gdout); using var bdx = acc.Zeros<float>(R * CX);
        kl.Gather(bg.View, bx.View, bidx.View, R, CX, K);
        kl.GatherBackward(bdx.View, bgd.View, bidx.View, R, CX, K);
        var eg = new double[R * K]; var edx = new double[R * CX];
        for (int r = 0; r < R; r++)
            for (int k = 0; k < K; k++) { eg[r * K + k] = x[r * CX + idx[r * K + k]]; edx[r * CX + idx[r * K + k]] += gdout[r * K + k]; }
        Ref.AssertClose(eg, bg.Read(R * K), 1e-5, "gather forward");
        Ref.AssertClose(edx, bdx.Read(R * CX), 1e-4, "gather backward", floor: 1);
    }
}
