// Utterance encoder service: each distinct text runs through the model once per checkpoint; the disk
// cache survives a new instance; another checkpoint hash or pooling uses another file; a torn record is
// dropped; a record whose bytes were damaged fails its checksum and is recomputed, never used; cached
// vectors equal freshly computed ones.
namespace NanoMbpo.Bert.Tests;

public class UtteranceEncoderTests
{
    static BertEncoder Tiny() => new(BertCheckpoint.Load(TestData.Tiny), maxLength: 16);

    [Fact]
    public void EncodesEachDistinctTextOnceAndReloadsFromDisk()
    {
        var dir = TestData.TempDir();
        string[] texts = ["w1 w2", "w3", "w1 w2", "w4 w5 w6"];
        float[][] first;
        using (var u = new UtteranceEncoder(Tiny(), "a".PadRight(64, '0'), dir, Pooling.Mean))
        {
            first = u.Encode(texts);
            Assert.Equal(3, u.Encoded);
            Assert.Equal(first[0], first[2]);
            u.Encode(["w3", "w4 w5 w6"]);
            Assert.Equal(3, u.Encoded);
        }
        var fresh = Tiny().Embed(["w4 w5 w6"], Pooling.Mean);
        for (int k = 0; k < 16; k++) Assert.Equal(fresh[0, k], first[3][k], 1e-5f);   // alone vs in a batch of 3
        using (var u = new UtteranceEncoder(Tiny(), "a".PadRight(64, '0'), dir, Pooling.Mean))
        {
            var again = u.Encode(texts);
            Assert.Equal(0, u.Encoded);
            for (int i = 0; i < texts.Length; i++) Assert.Equal(first[i], again[i]);
        }
        using (var other = new UtteranceEncoder(Tiny(), "b".PadRight(64, '0'), dir, Pooling.Mean))
        {
            other.Encode(texts);
            Assert.Equal(3, other.Encoded);   // another checkpoint: its own cache
        }
    }

    [Fact]
    public void ACacheWrittenByOtherArithmeticIsDiscarded()
    {
        // a cache from an older build held vectors a few ulps away from this build's; runs then depended on which
        // build had cached a text first. Records with valid checksums but other bits must not be used.
        var dir = TestData.TempDir();
        string sha = "d".PadRight(64, '0');
        string path;
        float[][] good;
        using (var u = new UtteranceEncoder(Tiny(), sha, dir, Pooling.Mean)) { good = u.Encode(["w1 w2", "w3"]); path = u.CachePath; Assert.False(u.Discarded); }
        using (var f = new FileStream(path, FileMode.Create))
        using (var bw = new BinaryWriter(f, System.Text.Encoding.UTF8))
        {
            var off = (float[])good[0].Clone();
            off[0] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(off[0]) + 1);   // one ulp
            UtteranceCacheFile.WriteRecord(bw, "w1 w2", off);
            UtteranceCacheFile.WriteRecord(bw, "w3", good[1]);
        }
        using (var again = new UtteranceEncoder(Tiny(), sha, dir, Pooling.Mean))
        {
            Assert.True(again.Discarded);
            Assert.Equal(good, again.Encode(["w1 w2", "w3"]));
            Assert.Equal(2, again.Encoded);
        }
        using (var third = new UtteranceEncoder(Tiny(), sha, dir, Pooling.Mean))
        {
            Assert.False(third.Discarded);                // rewritten by this build: kept
            Assert.Equal(good, third.Encode(["w1 w2", "w3"]));
            Assert.Equal(0, third.Encoded);
        }
    }

    [Fact]
    public void ASecondEncoderOnTheSameCacheReadsASnapshotAndNeverWrites()
    {
        // two `train` runs started together appended into one file at their own positions, and one read it
        // while the other cut its tail ("Unable to read beyond the end of the stream"); now one writer holds it
        var dir = TestData.TempDir();
        string sha = "c".PadRight(64, '0');
        using var writer = new UtteranceEncoder(Tiny(), sha, dir, Pooling.Mean);
        var a = writer.Encode(["w1 w2", "w3"]);
        Assert.False(writer.ReadOnly);
        long bytes = new FileInfo(writer.CachePath).Length;
        using (var second = new UtteranceEncoder(Tiny(), sha, dir, Pooling.Mean))
        {
            Assert.True(second.ReadOnly);
            var b = second.Encode(["w1 w2", "w3", "w4"]);
            Assert.Equal(1, second.Encoded);                    // the two texts came from the writer's records
            Assert.Equal(a[0], b[0]); Assert.Equal(a[1], b[1]);
            Assert.Equal(bytes, new FileInfo(writer.CachePath).Length);   // the second one wrote nothing
        }
        writer.Encode(["w5"]);
        Assert.True(new FileInfo(writer.CachePath).Length > bytes);
    }

    [Fact]
    public void ReadingAFileThatShrinksUnderTheReaderKeepsTheGoodPrefix()
    {
        var ms = new MemoryStream();
        var bw = new BinaryWriter(ms);
        UtteranceCacheFile.WriteRecord(bw, "one", new float[4]);
        UtteranceCacheFile.WriteRecord(bw, "two", new float[4]);
        bw.Flush();
        long first = 4 + 3 + 16 + 8;
        var shrinking = new ShrinkingStream(ms.ToArray(), shrinkTo: first + 6);
        var into = new Dictionary<string, float[]>();
        Assert.Equal(first, UtteranceCacheFile.ReadRecords(shrinking, 4, into));
        Assert.Equal(["one"], into.Keys);
    }

    /// <summary>Reports the full length, then serves only the first shrinkTo bytes (a tail cut while reading).</summary>
    sealed class ShrinkingStream(byte[] data, long shrinkTo) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            long left = Math.Max(0, shrinkTo - Position);
            return base.Read(buffer, offset, (int)Math.Min(count, left));
        }
        public override int Read(Span<byte> buffer) => base.Read(buffer[..(int)Math.Min(buffer.Length, Math.Max(0, shrinkTo - Position))]);
    }

    [Fact]
    public void TornRecordIsDropped()
    {
        var dir = TestData.TempDir();
        string path;
        using (var u = new UtteranceEncoder(Tiny(), "c".PadRight(64, '0'), dir, Pooling.Cls))
        {
            u.Encode(["w1", "w2"]);
            path = u.CachePath;
        }
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        using var again = new UtteranceEncoder(Tiny(), "c".PadRight(64, '0'), dir, Pooling.Cls);
        again.Encode(["w1", "w2"]);
        Assert.Equal(1, again.Encoded);   // w2's record was torn
        Assert.Equal(bytes.Length, new FileInfo(path).Length);
    }

    [Fact]
    public void DamagedRecordIsRecomputedNotUsed()
    {
        var dir = TestData.TempDir();
        string path;
        float[][] good;
        using (var u = new UtteranceEncoder(Tiny(), "d".PadRight(64, '0'), dir, Pooling.Cls))
        {
            good = u.Encode(["w1", "w2", "w3"]);
            path = u.CachePath;
        }
        var bytes = File.ReadAllBytes(path);
        int record = 4 + 2 + 16 * 4 + 8;   // "w1": length, text, 16 floats, checksum
        bytes[record + 4 + 2 + 5] ^= 0x40;  // a bit inside w2's vector
        File.WriteAllBytes(path, bytes);
        using var again = new UtteranceEncoder(Tiny(), "d".PadRight(64, '0'), dir, Pooling.Cls);
        var v = again.Encode(["w1", "w2", "w3"]);
        Assert.Equal(2, again.Encoded);   // w2 (damaged) and w3 (after it) were recomputed
        for (int i = 0; i < 3; i++) Assert.Equal(good[i], v[i]);
    }
}
