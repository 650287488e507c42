// Forward values, gradients and errors of the index ops (embedding, gather, masked_fill) and the
// determinism and keep-rate of dropout, against plain reference loops.
using Xunit;

namespace NanoMbpo.Tests.Ops;

public class IndexOpsBTests
{
    [Fact]
    public void EmbeddingPicksRowsAndScatterAddsRepeatedIds()
    {
        var w = Tensor.FromArray(Enumerable.Range(0, 8).Select(i => (float)i).ToArray(), 4, 2).RequireGrad();
        var ids = Tensor.FromArray(new[] { 3, 1, 3 }, 1, 3);
        var y = F.Embedding(w, ids);
        Assert.Equal([1, 3, 2], y.Shape);
        Assert.Equal([6, 7, 2, 3, 6, 7], y.ToDoubleArray());
        y.Backward(Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 1, 3, 2));
        Assert.Equal([0, 0, 3, 4, 0, 0, 1 + 5, 2 + 6], w.Grad!.ToDoubleArray());
    }

    [Fact]
    public void EmbeddingBackwardUsesTheIdsSeenByTheForward()
    {
        var w = Tensor.Zeros([3, 2], DType.F64).RequireGrad();
        var ids = Tensor.FromArray(new[] { 0, 2 }, 2);
        var y = F.Embedding(w, ids);
        ids.I32[1] = 1;   // a reused id buffer must not redirect the scatter
        y.Backward(Tensor.Ones([2, 2], DType.F64));
        Assert.Equal([1, 1, 0, 0, 1, 1], w.Grad!.ToDoubleArray());
    }

    [Fact]
    public void EmbeddingRejectsOutOfRangeIdsNamingIdAndV()
    {
        var w = Tensor.Zeros(5, 3);
        var e = Assert.Throws<ArgumentException>(() => F.Embedding(w, Tensor.FromArray(new[] { 0, 5 }, 2))).Message;
        Assert.Contains("embedding", e); Assert.Contains("id 5", e); Assert.Contains("V = 5", e);
        Assert.Contains("id -1", Assert.Throws<ArgumentException>(() => F.Embedding(w, Tensor.FromArray(new[] { -1 }, 1))).Message);
        Assert.Contains("I32", Assert.Throws<ArgumentException>(() => F.Embedding(w, Tensor.Zeros(2))).Message);
    }

    [Fact]
    public void GatherPicksAlongTheLastAxisAndScattersBack()
    {
        var q = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6 }, 2, 3).RequireGrad();
        var y = F.Gather(q, Tensor.FromArray(new[] { 2, 0 }, 2));
        Assert.Equal([3.0, 4.0], y.ToDoubleArray());
        y.Backward(Tensor.FromArray(new double[] { 10, 20 }, 2));
        Assert.Equal([0, 0, 10, 20, 0, 0], q.Grad!.ToDoubleArray());
    }

    [Fact]
    public void GatherErrorsNameIndexAndShapes()
    {
        var q = Tensor.Zeros(2, 3);
        var e = Assert.Throws<ArgumentException>(() => F.Gather(q, Tensor.FromArray(new[] { 0, 3 }, 2))).Message;
        Assert.Contains("gather", e); Assert.Contains("index 3", e); Assert.Contains("(2,3)", e);
        Assert.Contains("index(3)", Assert.Throws<ArgumentException>(() => F.Gather(q, Tensor.FromArray(new[] { 0, 0, 0 }, 3))).Message);
    }

    [Fact]
    public void MaskedFillBroadcastsLikeAReferenceLoop()
    {
        var rng = new Rng(2);
        var x = Tensor.Uniform(rng, [2, 3, 4, 5], -1, 1, DType.F64);
        foreach (var ms in new[] { new[] { 2, 3, 4, 5 }, new[] { 4, 5 }, new[] { 2, 1, 1, 5 }, new[] { 1, 3, 4, 1 }, new[] { 5 } })
        {
            var m = Tensor.Zeros(ms, DType.I32);
            for (int i = 0; i < m.Length; i++) m.I32[i] = rng.NextInt(3) == 0 ? 1 : 0;
            var y = F.MaskedFill(x, m, -7);
            var y32 = F.MaskedFill(x.To(DType.F32), m, -7);
            for (int e = 0; e < x.Length; e++)
            {
                // Right-aligned broadcast index into m.
                int rem = e, mi = 0, mStride = 1;
                var idx = new int[4];
                for (int a = 3; a >= 0; a--) { idx[a] = rem % x.Shape[a]; rem /= x.Shape[a]; }
                for (int k = 1; k <= ms.Length; k++)
                {
                    int d = ms[^k];
                    mi += (d == 1 ? 0 : idx[4 - k]) * mStride;
                    mStride *= d;
                }
                double want = m.I32[mi] != 0 ? -7 : x.F64[e];
                Assert.Equal(want, y.F64[e]);
                Assert.Equal((float)want, y32.F32[e]);
            }
        }
    }

    [Fact]
    public void MaskedFillGivesNoGradientToFilledPositionsInFloat32()
    {
        // 37 elements: the SIMD lanes and the scalar tail are both exercised.
        var x = Tensor.Uniform(new Rng(4), [37], -1, 1).RequireGrad();
        var m = Tensor.FromArray(Enumerable.Range(0, 37).Select(i => i % 3 == 0 ? 1 : 0).ToArray(), 37);
        var y = F.MaskedFill(x, m, 2);
        y.Backward(Tensor.Full([37], 0.5));
        for (int i = 0; i < 37; i++)
        {
            Assert.Equal(i % 3 == 0 ? 2f : x.F32[i], y.F32[i]);
            Assert.Equal(i % 3 == 0 ? 0f : 0.5f, x.Grad!.F32[i]);
        }
    }

    [Fact]
    public void MaskedFillRejectsANonBroadcastableMask()
    {
        var e = Assert.Throws<ArgumentException>(() => F.MaskedFill(Tensor.Zeros(2, 3), Tensor.Zeros([2], DType.I32), 0)).Message;
        Assert.Contains("masked_fill", e); Assert.Contains("mask(2)", e); Assert.Contains("x(2,3)", e);
    }

    [Fact]
    public void DropoutIsDeterministicPerRngStateAndKeepsAboutOneMinusP()
    {
        var x = Tensor.Ones([100_001]);
        var a = F.Dropout(x, 0.3, new Rng(42), true);
        var b = F.Dropout(x, 0.3, new Rng(42), true);
        var c = F.Dropout(x, 0.3, new Rng(43), true);
        Assert.Equal(a.ToDoubleArray(), b.ToDoubleArray());
        Assert.NotEqual(a.ToDoubleArray(), c.ToDoubleArray());
        int kept = 0;
        float scale = (float)(1 / 0.7);
        foreach (var v in a.F32)
        {
            Assert.True(v == 0 || v == scale, $"dropout output {v} is neither 0 nor 1/(1-p)");
            if (v != 0) kept++;
        }
        // Binomial(100001, 0.7): sd ≈ 145, so ±1000 is ~7 sd.
        Assert.InRange(kept, 70_001 - 1000, 70_001 + 1000);
        // The mean is preserved (inverted dropout).
        Assert.InRange(a.ToDoubleArray().Average(), 0.98, 1.02);
    }

    [Fact]
    public void DropoutSameMaskInFloat32AndFloat64AndBackwardUsesIt()
    {
        var x64 = Tensor.Uniform(new Rng(1), [7, 3], 0.5, 1, DType.F64).RequireGrad();
        var y64 = F.Dropout(x64, 0.5, new Rng(9), true);
        var y32 = F.Dropout(x64.To(DType.F32), 0.5, new Rng(9), true);
        for (int i = 0; i < 21; i++) Assert.Equal(y64.F64[i], y32.F32[i], 5);
        y64.Backward(Tensor.Ones([7, 3], DType.F64));
        for (int i = 0; i < 21; i++) Assert.Equal(y64.F64[i] == 0 ? 0 : 2, x64.Grad!.F64[i], 12);
    }

    [Fact]
    public void DropoutIsIdentityInEvalOrAtZeroAndZerosAtOne()
    {
        var x = Tensor.Uniform(new Rng(1), [10], -1, 1);
        var rng = new Rng(5);
        Assert.Same(x, F.Dropout(x, 0.5, rng, false));
        Assert.Same(x, F.Dropout(x, 0, rng, true));
        Assert.Equal(new Rng(5).NextUInt64(), rng.NextUInt64());   // not advanced
        Assert.All(F.Dropout(x, 1, new Rng(5), true).ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.Contains("dropout", Assert.Throws<ArgumentOutOfRangeException>(() => F.Dropout(x, 1.5, rng, true)).Message);
    }
}
