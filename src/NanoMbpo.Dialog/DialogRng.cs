// Seeded RNG for the dialog world (xoshiro256** seeded by SplitMix64), so episodes are reproducible per seed
// without System.Random's shared state. Tested by tests/NanoMbpo.Tests/Dialog/EnvTests.cs (determinism).
namespace NanoMbpo.Dialog;

public sealed class DialogRng
{
    ulong _s0, _s1, _s2, _s3;

    public DialogRng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    public static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A well-mixed seed for item i of a run started with seed s.</summary>
    public static ulong Derive(ulong seed, ulong index) { ulong x = seed ^ (index * 0xD1B54A32D192ED03UL); return SplitMix(ref x); }

    public ulong NextUInt64()
    {
        ulong result = RotL(_s1 * 5, 7) * 9, t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t; _s3 = RotL(_s3, 45);
        return result;
    }

    static ulong RotL(ulong x, int k) => (x << k) | (x >> (64 - k));

    /// <summary>Uniform in [0, n).</summary>
    public int Next(int n) => n <= 1 ? 0 : (int)((NextUInt64() >> 11) % (ulong)n);
    public int Next(int lo, int hiExclusive) => lo + Next(hiExclusive - lo);
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
    public bool Chance(double p) => NextDouble() < p;
    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];
}
