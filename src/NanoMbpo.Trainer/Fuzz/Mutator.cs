// Input generation for the parser fuzzers: a fuzz input is a seed file (a valid file of the target's format,
// or random bytes) plus a list of Mutations, each a small record of integers so both CsCheck (in the tests,
// which shrinks them) and `nanombpo fuzz` (with its own Random) can build them. Mutations: bit flips, byte
// sets, truncation, deletion, duplication, splices from another seed, extreme integers (as text and as 8-byte
// little-endian values), non-UTF-8 sequences, deep JSON nesting, and a fresh random header length prefix.
// Tested through tests/NanoMbpo.Tests/Reliability/FuzzTests.cs.
using System.Buffers.Binary;
using System.Text;

namespace NanoMbpo.Trainer.Fuzz;

/// <summary>One edit of an input; A, B, C are taken modulo what they index, so every value is meaningful.</summary>
public readonly record struct Mutation(byte Kind, int A, int B, int C)
{
    public const int Kinds = 11;
    public override string ToString() => $"{(MutationKind)(Kind % Kinds)}({A},{B},{C})";
}

public enum MutationKind { BitFlip, SetByte, Truncate, Delete, Duplicate, Splice, ExtremeText, ExtremeBinary, NonUtf8, DeepNesting, RandomBytes }

public static class Mutator
{
    static readonly string[] ExtremeTexts =
    [
        "-1", "0", "4294967295", "4294967296", "2147483648", "-2147483649", "9223372036854775807", "18446744073709551615",
        "18446744073709551616", "99999999999999999999999999", "1e308", "-1e308", "1e-320", "NaN", "Infinity", "-0", "1.5",
        "\"\"", "null", "true", "[]", "{}", "\"F32\"", "\"I64\"", "\"BF16\"", "\"U8\"", "[0,18446744073709551615]", "[18446744073709551615,0]",
        "[4294967295,4294967295,4294967295]", "\u0000", "\\u0000", "\\ud800", "(", ")", "(ORDER", "\t", "\n", "\r\n",
    ];
    static readonly ulong[] ExtremeValues = [0, 1, 7, 8, 0xFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, long.MaxValue, ulong.MaxValue, 100_000_000];
    static readonly byte[][] BadUtf8 = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xEF, 0xBB, 0xBF], [0xC0, 0xAF]];

    /// <summary>Applies <paramref name="mutations"/> in order to a copy of <paramref name="seeds"/>[seedIndex].</summary>
    public static byte[] Apply(IReadOnlyList<byte[]> seeds, int seedIndex, IEnumerable<Mutation> mutations)
    {
        var data = new List<byte>(seeds.Count == 0 ? [] : seeds[Mod(seedIndex, seeds.Count)]);
        foreach (var m in mutations) Apply(data, seeds, m);
        return data.ToArray();
    }

    static int Mod(int a, int n) => n <= 0 ? 0 : (int)((uint)a % (uint)n);

    static void Apply(List<byte> d, IReadOnlyList<byte[]> seeds, Mutation m)
    {
        int n = d.Count;
        switch ((MutationKind)(m.Kind % Mutation.Kinds))
        {
            case MutationKind.BitFlip:
                if (n > 0) d[Mod(m.A, n)] ^= (byte)(1 << Mod(m.B, 8));
                break;
            case MutationKind.SetByte:
                if (n > 0) d[Mod(m.A, n)] = (byte)m.B;
                break;
            case MutationKind.Truncate:
                d.RemoveRange(Mod(m.A, n + 1), n - Mod(m.A, n + 1));
                break;
            case MutationKind.Delete:
                if (n > 0) { int at = Mod(m.A, n); d.RemoveRange(at, Math.Min(n - at, 1 + Mod(m.B, 64))); }
                break;
            case MutationKind.Duplicate:
                if (n > 0) { int at = Mod(m.A, n), len = Math.Min(n - at, 1 + Mod(m.B, 256)); d.InsertRange(Mod(m.C, n + 1), d.GetRange(at, len)); }
                break;
            case MutationKind.Splice:
                if (seeds.Count > 0)
                {
                    var other = seeds[Mod(m.A, seeds.Count)];
                    if (other.Length > 0)
                    {
                        int from = Mod(m.B, other.Length), len = Math.Min(other.Length - from, 1 + Mod(m.C, 512));
                        d.InsertRange(Mod(m.C ^ m.B, n + 1), other.AsSpan(from, len).ToArray());
                    }
                }
                break;
            case MutationKind.ExtremeText:
                ReplaceNumberOrInsert(d, Encoding.UTF8.GetBytes(ExtremeTexts[Mod(m.B, ExtremeTexts.Length)]), m.A);
                break;
            case MutationKind.ExtremeBinary:
                var v = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(v, ExtremeValues[Mod(m.B, ExtremeValues.Length)] + (ulong)Mod(m.C, 3) - 1);
                int pos = Mod(m.C, 4) == 0 ? 0 : Mod(m.A, n + 1); // often the 8-byte header length prefix
                for (int i = 0; i < 8; i++) { if (pos + i < d.Count) d[pos + i] = v[i]; else d.Add(v[i]); }
                break;
            case MutationKind.NonUtf8:
                d.InsertRange(Mod(m.A, n + 1), BadUtf8[Mod(m.B, BadUtf8.Length)]);
                break;
            case MutationKind.DeepNesting:
                int depth = 1 + Mod(m.B, 5000);
                string open = Mod(m.C, 3) switch { 0 => "[", 1 => "{\"a\":", _ => "(" };
                d.InsertRange(Mod(m.A, n + 1), Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(open, depth))));
                break;
            case MutationKind.RandomBytes:
                var rng = new Random(m.B);
                var bytes = new byte[1 + Mod(m.C, 300)];
                rng.NextBytes(bytes);
                d.InsertRange(Mod(m.A, n + 1), bytes);
                break;
        }
    }

    /// <summary>Replaces the ASCII number nearest after <paramref name="at"/> with <paramref name="text"/> (or inserts it).</summary>
    static void ReplaceNumberOrInsert(List<byte> d, byte[] text, int at)
    {
        int n = d.Count, start = Mod(at, n + 1);
        int i = start;
        while (i < n && !(d[i] >= '0' && d[i] <= '9')) i++;
        if (i == n) { d.InsertRange(start, text); return; }
        int j = i;
        while (j < n && ((d[j] >= '0' && d[j] <= '9') || d[j] == '.' || d[j] == 'e' || d[j] == '-')) j++;
        d.RemoveRange(i, j - i);
        d.InsertRange(i, text);
    }

    /// <summary>A random mutation list for campaigns without CsCheck.</summary>
    public static Mutation[] Random(Random rng, int maxCount = 6)
    {
        var list = new Mutation[rng.Next(0, maxCount + 1)];
        for (int i = 0; i < list.Length; i++) list[i] = new Mutation((byte)rng.Next(Mutation.Kinds), rng.Next(), rng.Next(), rng.Next());
        return list;
    }
}
