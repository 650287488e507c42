// Replay buffer: ring overwrite order, seeded sampling (same seed, same batch; uniform coverage),
// the real/model mix, save/load round trip, and Rng state round trip.
using NanoMbpo.Rl;
using Xunit;

namespace NanoMbpo.Rl.Tests;

public class ReplayBufferTests
{
    static ReplayBuffer Filled(int capacity, int n)
    {
        var b = new ReplayBuffer(capacity, 2, 1);
        for (int i = 0; i < n; i++) b.Add([i, -i], [i * 10], i * 0.5, [i + 1, -i - 1], i % 3 == 0);
        return b;
    }

    [Fact]
    public void RingOverwritesTheOldest()
    {
        var b = Filled(5, 7);
        Assert.Equal(5, b.Count);
        var batch = new Batch(1, 2, 1);
        var seen = new SortedSet<float>();
        for (int i = 0; i < 5; i++) { b.CopyTo(i, batch, 0); seen.Add(batch.Obs[0]); Assert.Equal(batch.Obs[0] * 10, batch.Actions[0]); Assert.Equal(batch.Obs[0] + 1, batch.NextObs[0]); }
        Assert.Equal(new float[] { 2, 3, 4, 5, 6 }, seen);
    }

    [Fact]
    public void SamplingIsSeededAndCoversTheBuffer()
    {
        var b = Filled(100, 100);
        var x = new Batch(64, 2, 1); var y = new Batch(64, 2, 1);
        b.Sample(new Rng(7), x); b.Sample(new Rng(7), y);
        Assert.Equal(x.Obs, y.Obs);
        b.Sample(new Rng(8), y);
        Assert.NotEqual(x.Obs, y.Obs);
        var counts = new int[100];
        var rng = new Rng(9);
        var big = new Batch(1000, 2, 1);
        for (int k = 0; k < 20; k++) { b.Sample(rng, big); for (int i = 0; i < 1000; i++) counts[(int)big.Obs[2 * i]]++; }
        Assert.All(counts, c => Assert.InRange(c, 120, 280));   // 200 expected each
        for (int i = 0; i < 1000; i++)
        {
            int k = (int)big.Obs[2 * i];
            Assert.Equal(k % 3 == 0 ? 1f : 0f, big.Terminated[i]);
            Assert.Equal(k * 0.5f, big.Rewards[i]);
            Assert.Equal(k * 10, big.ActionIndex[i]);
        }
    }

    [Fact]
    public void MixedBatchesTakeTheRealRatio()
    {
        var real = Filled(10, 10);
        var model = new ReplayBuffer(10, 2, 1);
        var batch = new Batch(20, 2, 1);
        ReplayBuffer.SampleMixed(new Rng(1), real, model, 0.05, batch);
        Assert.All(Enumerable.Range(0, 20), i => Assert.True(batch.Obs[2 * i] >= 0));   // empty model buffer: all real
        for (int i = 0; i < 10; i++) model.Add([-100 - i, 0], [0], 0, [0, 0], false);
        ReplayBuffer.SampleMixed(new Rng(1), real, model, 0.25, batch);
        Assert.Equal(5, Enumerable.Range(0, 20).Count(i => batch.Obs[2 * i] >= 0));
    }

    [Fact]
    public void SaveLoadRoundTrips()
    {
        var b = Filled(8, 11);
        string path = Path.Combine(Path.GetTempPath(), $"rb_{Environment.ProcessId}.bin");
        b.Save(path);
        var c = new ReplayBuffer(8, 2, 1);
        c.Load(path);
        Assert.Equal(b.Count, c.Count);
        var x = new Batch(32, 2, 1); var y = new Batch(32, 2, 1);
        b.Sample(new Rng(3), x); c.Sample(new Rng(3), y);
        Assert.Equal(x.Obs, y.Obs); Assert.Equal(x.NextObs, y.NextObs); Assert.Equal(x.Rewards, y.Rewards);
        // the write cursor survives too: the next Add overwrites the same slot in both
        b.Add([99, 99], [0], 0, [0, 0], false); c.Add([99, 99], [0], 0, [0, 0], false);
        b.Sample(new Rng(4), x); c.Sample(new Rng(4), y);
        Assert.Equal(x.Obs, y.Obs);
        Assert.Throws<InvalidDataException>(() => new ReplayBuffer(9, 2, 1).Load(path));
        File.Delete(path);
    }

    [Fact]
    public void RngStateRoundTrips()
    {
        var a = new Rng(11);
        a.Normal();   // leaves a spare normal in the state
        var ms = new MemoryStream();
        a.Write(new BinaryWriter(ms));
        var b = new Rng(0);
        ms.Position = 0; b.Read(new BinaryReader(ms));
        for (int i = 0; i < 10; i++) Assert.Equal(a.Normal(), b.Normal());
        Assert.Equal(a.NextInt(1000), b.NextInt(1000));
    }
}
