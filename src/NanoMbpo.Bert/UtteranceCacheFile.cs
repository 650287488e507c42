// The record format of the utterance encoder's cache file (UtteranceEncoder.cs), as pure functions on a
// stream so the loader can be fuzzed without a model: records [int32 UTF-8 length][UTF-8 text][H float32]
// [uint64 FNV-1a of the record's bytes]. ReadRecords keeps the records before the first one that is torn,
// oversized (its length field beyond the bytes left: checked before anything is allocated) or fails its
// checksum, and returns the length of that good prefix; it never throws on damaged bytes.
// Tests: tests/NanoMbpo.Bert.Tests/UtteranceEncoderTests.cs and the fuzz target utterance-cache
// (tests/NanoMbpo.Tests/Reliability/FuzzTests.cs).
using System.Runtime.InteropServices;
using System.Text;

namespace NanoMbpo.Bert;

public static class UtteranceCacheFile
{
    /// <summary>Longest text a record may hold (bytes of UTF-8).</summary>
    public const int MaxTextBytes = 1 << 24;

    /// <summary>Reads the records of <paramref name="s"/> from its start into <paramref name="into"/> (a later
    /// record of the same text wins); returns the length of the good prefix (where the next record belongs).</summary>
    public static long ReadRecords(Stream s, int hidden, IDictionary<string, float[]> into)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        s.Position = 0;
        long length = s.Length, good = 0;
        int vectorBytes = hidden * 4;
        using var br = new BinaryReader(s, Encoding.UTF8, leaveOpen: true);
        try { ReadAll(); }
        catch (EndOfStreamException) { }   // the file shrank under us (another process cut a torn tail): keep the good prefix
        return good;

        void ReadAll()
        {
        while (length - good >= 4)
        {
            int n = br.ReadInt32();
            if (n < 0 || n > MaxTextBytes || length - s.Position < (long)n + vectorBytes + 8) break;   // torn or a damaged length
            var bytes = br.ReadBytes(n);
            var raw = br.ReadBytes(vectorBytes);
            if (br.ReadUInt64() != Checksum(n, bytes, raw)) break;
            var v = new float[hidden];
            Buffer.BlockCopy(raw, 0, v, 0, vectorBytes);
            into[Encoding.UTF8.GetString(bytes)] = v;
            good = s.Position;
        }
        }
    }

    /// <summary>Appends one record (text, vector, checksum).</summary>
    public static void WriteRecord(BinaryWriter w, string text, ReadOnlySpan<float> vector)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var raw = MemoryMarshal.AsBytes(vector);
        w.Write(bytes.Length);
        w.Write(bytes);
        w.Write(raw);
        w.Write(Checksum(bytes.Length, bytes, raw));
    }

    /// <summary>64-bit FNV-1a over the length, the text and the vector bytes of one record.</summary>
    public static ulong Checksum(int n, ReadOnlySpan<byte> text, ReadOnlySpan<byte> vector)
    {
        Span<byte> len = stackalloc byte[4];
        BitConverter.TryWriteBytes(len, n);
        return Fnv(Fnv(Fnv(14695981039346656037UL, len), text), vector);
    }

    static ulong Fnv(ulong x, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) { x ^= b; x *= 1099511628211UL; }
        return x;
    }
}
