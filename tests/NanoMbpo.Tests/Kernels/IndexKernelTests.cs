// Parity tests for Embedding.cs (gather rows, atomic scatter-add backward with repeated tokens) and
// Gather.cs (gather along the last axis with repeated indices), forward and backward.
using ILGPU.Runtime;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class IndexKernelTests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    [Fact] public void EmbeddingAndGather_CpuWarp32() => Check(fx.CpuWarp32);
    [CudaFact] public void EmbeddingAndGather_Cuda() => Check(fx.Cuda);

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
