// TensorArena: a repeated step reuses its arrays (no misses after the first), buffers are handed out
// zeroed, results equal the non-pooled computation, and the scope restores the previous arena.
using NanoMbpo.NN;
using Xunit;

namespace NanoMbpo.Tests.NN;

public class TensorArenaTests
{
    [Fact]
    public void ReusedStepsMatchFreshAllocation()
    {
        var pooled = new MlpTrainStep([8, 16, 4], batch: 6, seed: 9, batches: 3);
        var fresh = new MlpTrainStep([8, 16, 4], batch: 6, seed: 9, batches: 3, reuseBuffers: false);
        for (int i = 0; i < 8; i++) Assert.Equal(fresh.Step(), pooled.Step());
        Assert.Equal(fresh.Store.Data<float>().ToArray(), pooled.Store.Data<float>().ToArray());
    }

    [Fact]
    public void SecondPassAllocatesNothingAndBuffersStartZeroed()
    {
        var arena = new TensorArena();
        float[] first;
        using (arena.Use())
        {
            var t = Tensor.Zeros(3, 4);
            t.F32.Fill(7f);
            first = t.ToFloatArray();
            _ = Tensor.Zeros([5], DType.F64);
        }
        long misses = arena.Misses;
        Assert.Equal(2, misses);
        using (arena.Use())
        {
            var t = Tensor.Zeros(3, 4);
            Assert.All(t.ToFloatArray(), v => Assert.Equal(0f, v));
            _ = Tensor.Zeros([5], DType.F64);
            _ = Tensor.Zeros(2);   // a new request extends the arena
        }
        Assert.Equal(misses + 1, arena.Misses);
        Assert.Equal(3, arena.ArrayCount);
        Assert.Equal(7f, first[0]);

        // Outside any scope nothing is pooled; nested scopes restore the outer arena.
        Assert.Null(TensorArena.Current);
        var inner = new TensorArena();
        using (arena.Use())
        {
            using (inner.Use()) Assert.Same(inner, TensorArena.Current);
            Assert.Same(arena, TensorArena.Current);
        }
        Assert.Null(TensorArena.Current);
    }
}
