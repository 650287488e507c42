// The seeded RNG: reproducible streams, independent forks, sane distributions.
using Xunit;

namespace NanoMbpo.Tests.Core;

public class RngTests
{
    [Fact]
    public void SameSeedSameStreamDifferentSeedDifferentStream()
    {
        var a = new Rng(42); var b = new Rng(42); var c = new Rng(43);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
        Assert.NotEqual(new Rng(42).NextUInt64(), c.NextUInt64());
        Assert.NotEqual(new Rng(42).Fork(1).NextUInt64(), new Rng(42).Fork(2).NextUInt64());
        Assert.Equal(new Rng(42).Fork(1).NextUInt64(), new Rng(42).Fork(1).NextUInt64());
    }

    [Fact]
    public void NormalAndCategoricalHaveTheRightMoments()
    {
        var r = new Rng(7);
        double s = 0, s2 = 0; int n = 200_000;
        for (int i = 0; i < n; i++) { double v = r.Normal(); s += v; s2 += v * v; }
        Assert.InRange(s / n, -0.01, 0.01);
        Assert.InRange(s2 / n, 0.98, 1.02);
        var counts = new int[3];
        for (int i = 0; i < 60_000; i++) counts[r.Categorical(new double[] { 1, 2, 3 })]++;
        Assert.InRange(counts[0] / 60_000.0, 0.155, 0.178);
        Assert.InRange(counts[2] / 60_000.0, 0.49, 0.51);
        Assert.Throws<ArgumentException>(() => r.Categorical(new double[] { 0, 0 }));
    }

    [Fact]
    public void SavedStateContinuesTheStreamDrawForDraw()
    {
        var r = new Rng(42);
        r.NextUInt64(); r.Normal();   // leaves a spare normal in the state
        var ms = new MemoryStream();
        r.Write(new BinaryWriter(ms));
        var expected = new[] { r.Normal(), r.Normal(), r.NextDouble() };
        var restored = new Rng(7);
        ms.Position = 0;
        restored.Read(new BinaryReader(ms));
        Assert.Equal(expected, new[] { restored.Normal(), restored.Normal(), restored.NextDouble() });
    }
}
