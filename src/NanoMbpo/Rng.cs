// Rng: a seeded xoshiro256** generator (seeded through SplitMix64) with uniform, normal and
// categorical sampling. Streams are reproducible across runs and machines; Fork(id) derives an
// independent stream per purpose so adding a draw in one place does not shift another. Write/Read save
// and restore the full state (the RL loops' checkpoints resume runs draw for draw).
// Tested by tests/NanoMbpo.Tests/Core/RngTests.cs and tests/NanoMbpo.Rl.Tests (exact resume).
namespace NanoMbpo;

public sealed class Rng
{
    ulong s0, s1, s2, s3;
    double? spareNormal;
    public ulong Seed { get; }

    public Rng(ulong seed)
    {
        Seed = seed;
        ulong x = seed;
        s0 = SplitMix(ref x); s1 = SplitMix(ref x); s2 = SplitMix(ref x); s3 = SplitMix(ref x);
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>An independent generator derived from this one's seed and <paramref name="stream"/>.</summary>
    public Rng Fork(ulong stream)
    {
        ulong x = Seed ^ (stream * 0xD1B54A32D192ED03UL + 0x8CB92BA72F3D8DD7UL);
        return new Rng(SplitMix(ref x));
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

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Unbiased integer in [0, bound) (Lemire's method).</summary>
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

    /// <summary>Standard normal (Box-Muller; the second value is kept for the next call).</summary>
    public double Normal()
    {
        if (spareNormal is double s) { spareNormal = null; return s; }
        double u1, u2;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>An index drawn with probability proportional to <paramref name="weights"/> (non-negative, not all zero).</summary>
    public int Categorical(ReadOnlySpan<double> weights)
    {
        double total = 0;
        foreach (var w in weights)
        {
            if (!(w >= 0) || double.IsInfinity(w)) throw new ArgumentException($"weights must be finite and non-negative, got {w}.", nameof(weights));
            total += w;
        }
        if (total <= 0) throw new ArgumentException("weights sum to zero.", nameof(weights));
        double u = NextDouble() * total, acc = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            acc += weights[i];
            if (u < acc) return i;
        }
        for (int i = weights.Length - 1; i >= 0; i--) if (weights[i] > 0) return i;
        return weights.Length - 1;
    }

    public int Categorical(ReadOnlySpan<float> weights)
    {
        Span<double> w = weights.Length <= 256 ? stackalloc double[weights.Length] : new double[weights.Length];
        for (int i = 0; i < w.Length; i++) w[i] = weights[i];
        return Categorical(w);
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>Writes the generator's full state (not its seed: a restored stream continues, it does not fork).</summary>
    public void Write(BinaryWriter w)
    {
        w.Write(s0); w.Write(s1); w.Write(s2); w.Write(s3);
        w.Write(spareNormal.HasValue); w.Write(spareNormal ?? 0.0);
    }

    /// <summary>Restores a state written by <see cref="Write"/>.</summary>
    public void Read(BinaryReader r)
    {
        s0 = r.ReadUInt64(); s1 = r.ReadUInt64(); s2 = r.ReadUInt64(); s3 = r.ReadUInt64();
        bool has = r.ReadBoolean(); double spare = r.ReadDouble();
        spareNormal = has ? spare : null;
    }
}
