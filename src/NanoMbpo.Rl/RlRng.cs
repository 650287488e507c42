// RlRng: the random stream of the RL loops (exploration, environment resets, replay sampling):
// xoshiro256** seeded through SplitMix64, like the core's Rng, but with its full state readable and
// settable so a checkpoint can resume a run exactly (the same draws, so the same curve).
// Tested by tests/NanoMbpo.Rl.Tests/ReplayBufferTests.cs (state round trip) and the resume test.
namespace NanoMbpo.Rl;

public sealed class RlRng
{
    ulong s0, s1, s2, s3;
    double spare; bool hasSpare;

    public RlRng(ulong seed)
    {
        ulong x = seed;
        s0 = SplitMix(ref x); s1 = SplitMix(ref x); s2 = SplitMix(ref x); s3 = SplitMix(ref x);
    }

    /// <summary>An independent stream for one purpose, derived from a run seed and a stream id.</summary>
    public static RlRng Stream(ulong seed, ulong stream)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL + 0x8CB92BA72F3D8DD7UL);
        return new RlRng(SplitMix(ref x));
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Integer in [0, bound) (Lemire's multiply-shift with rejection: unbiased).</summary>
    public int NextInt(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), $"bound must be positive, got {bound}.");
        ulong b = (ulong)bound;
        UInt128 m = (UInt128)NextUInt64() * b;
        if ((ulong)m < b)
        {
            ulong threshold = (0UL - b) % b;
            while ((ulong)m < threshold) m = (UInt128)NextUInt64() * b;
        }
        return (int)(ulong)(m >> 64);
    }

    /// <summary>Standard normal (Box-Muller, the second value kept for the next call).</summary>
    public double Normal()
    {
        if (hasSpare) { hasSpare = false; return spare; }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        double u2 = NextDouble(), r = Math.Sqrt(-2.0 * Math.Log(u1));
        spare = r * Math.Sin(2 * Math.PI * u2); hasSpare = true;
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Index drawn from unnormalised non-negative weights.</summary>
    public int Categorical(ReadOnlySpan<float> p)
    {
        double total = 0;
        foreach (var w in p) total += w;
        double u = NextDouble() * total, acc = 0;
        for (int i = 0; i < p.Length; i++) { acc += p[i]; if (u < acc) return i; }
        for (int i = p.Length - 1; i >= 0; i--) if (p[i] > 0) return i;
        return p.Length - 1;
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--) { int j = NextInt(i + 1); (items[i], items[j]) = (items[j], items[i]); }
    }

    public void Write(BinaryWriter w)
    {
        w.Write(s0); w.Write(s1); w.Write(s2); w.Write(s3); w.Write(hasSpare); w.Write(spare);
    }

    public void Read(BinaryReader r)
    {
        s0 = r.ReadUInt64(); s1 = r.ReadUInt64(); s2 = r.ReadUInt64(); s3 = r.ReadUInt64(); hasSpare = r.ReadBoolean(); spare = r.ReadDouble();
    }
}
