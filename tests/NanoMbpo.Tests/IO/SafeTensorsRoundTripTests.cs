// Round-trip tests of SafeTensorsWriter -> SafeTensorsFile for every dtype, layout facts of the written
// file (8-byte aligned header padded with spaces, reference ordering), conversions and atomic saving.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using NanoMbpo.IO;
using Xunit;

namespace NanoMbpo.Tests.IO;

public sealed class SafeTensorsRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanombpo-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TypedEntriesRoundTripThroughFileAndMemory()
    {
        var f32 = new float[] { 1.5f, -2.25f, float.Epsilon, float.MaxValue, -0f, 3.14159274f };
        var f64 = new double[] { Math.PI, -1e-300, 1e300, 0.1 };
        var i64 = new long[] { long.MinValue, -1, 0, long.MaxValue, 42 };
        var i32 = new int[] { int.MinValue, 7, int.MaxValue };
        var w = new SafeTensorsWriter()
            .Add("w.f32", [2, 3], f32)
            .Add("f64", [4], f64)
            .Add("ids", [5], i64)
            .Add("i32", [1, 3], i32)
            .Add("scalar", [], new float[] { 9f })
            .Add("empty", [0, 3], Array.Empty<float>());
        w.Metadata["format"] = "pt";
        w.Metadata["note"] = "ünïcode \"quoted\"";
        var path = Path.Combine(_dir, "rt.safetensors");
        w.Save(path);

        foreach (var file in new[] { SafeTensorsFile.Read(path), SafeTensorsFile.Open(path), SafeTensorsFile.Parse(w.ToArray(), "mem") })
        {
            using (file)
            {
                Assert.Equal(6, file.Entries.Count);
                Assert.Equal(f32, file["w.f32"].ReadFloat32());
                Assert.Equal(new[] { 2, 3 }, file["w.f32"].Shape);
                Assert.Equal(SafeTensorsDType.F32, file["w.f32"].DType);
                Assert.Equal(f64, file["f64"].ReadFloat64());
                Assert.Equal(i64, file["ids"].ReadInt64());
                Assert.Equal(i32, file["i32"].ReadInt32());
                Assert.Equal(new long[] { int.MinValue, 7, int.MaxValue }, file["i32"].ReadInt64());
                Assert.Empty(file["scalar"].Shape);
                Assert.Equal(new[] { 9f }, file["scalar"].ReadFloat32());
                Assert.Equal(0, file["empty"].ElementCount);
                Assert.Equal("pt", file.Metadata["format"]);
                Assert.Equal("ünïcode \"quoted\"", file.Metadata["note"]);
                // Exact widenings.
                Assert.Equal(f32.Select(x => (double)x), file["w.f32"].ReadFloat64());
            }
        }
    }

    [Fact]
    public void RawDTypesDecodeExactly()
    {
        var halves = new[] { (Half)1.5f, (Half)(-0.0009765625f), Half.MaxValue, (Half)(-3f) };
        var f16 = new byte[8];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(2 * i), halves[i]);
        // bfloat16 of 1.0, -2.5, 3.140625 are the float32 bit patterns' top halves.
        var bf16Values = new[] { 1.0f, -2.5f, 3.140625f };
        var bf16 = new byte[6];
        for (int i = 0; i < 3; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(bf16.AsSpan(2 * i), (ushort)(BitConverter.SingleToInt32Bits(bf16Values[i]) >> 16));
        var u64 = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(u64, 123);
        BinaryPrimitives.WriteUInt64LittleEndian(u64.AsSpan(8), ulong.MaxValue);

        var w = new SafeTensorsWriter()
            .AddRaw("f16", SafeTensorsDType.F16, [2, 2], f16)
            .AddRaw("bf16", SafeTensorsDType.BF16, [3], bf16)
            .AddRaw("bool", SafeTensorsDType.BOOL, [3], new byte[] { 1, 0, 1 })
            .AddRaw("u8", SafeTensorsDType.U8, [2], new byte[] { 255, 0 })
            .AddRaw("i8", SafeTensorsDType.I8, [2], new byte[] { 0x80, 0x7F })
            .AddRaw("i16", SafeTensorsDType.I16, [1], new byte[] { 0x00, 0x80 })
            .AddRaw("u16", SafeTensorsDType.U16, [1], new byte[] { 0xFF, 0xFF })
            .AddRaw("u32", SafeTensorsDType.U32, [1], new byte[] { 0xFF, 0xFF, 0xFF, 0xFF })
            .AddRaw("u64", SafeTensorsDType.U64, [2], u64);
        var file = SafeTensorsFile.Parse(w.ToArray(), "raw");

        Assert.Equal(halves.Select(h => (float)h), file["f16"].ReadFloat32());
        Assert.Equal(bf16Values, file["bf16"].ReadFloat32());
        Assert.Equal(bf16Values.Select(x => (double)x), file["bf16"].ReadFloat64());
        Assert.Equal(new long[] { 1, 0, 1 }, file["bool"].ReadInt64());
        Assert.Equal(new[] { 255f, 0f }, file["u8"].ReadFloat32());
        Assert.Equal(new[] { -128, 127 }, file["i8"].ReadInt32());
        Assert.Equal(new[] { -32768 }, file["i16"].ReadInt32());
        Assert.Equal(new long[] { 65535 }, file["u16"].ReadInt64());
        Assert.Equal(new long[] { uint.MaxValue }, file["u32"].ReadInt64());
        Assert.Throws<SafeTensorsFormatException>(() => file["u32"].ReadInt32());
        var ex = Assert.Throws<SafeTensorsFormatException>(() => file["u64"].ReadInt64());
        Assert.Contains("element 1", ex.Message);
    }

    [Fact]
    public void LossyConversionsNeedOptIn()
    {
        var w = new SafeTensorsWriter()
            .Add("d", [2], new[] { 0.1, 1e40 })
            .Add("l", [2], new long[] { (1L << 53) + 1, 3_000_000_000 })
            .Add("f", [1], new[] { 1f });
        var file = SafeTensorsFile.Parse(w.ToArray(), "lossy");
        var ex = Assert.Throws<InvalidOperationException>(() => file["d"].ReadFloat32());
        Assert.Contains("'d'", ex.Message);
        Assert.Equal(new[] { 0.1f, float.PositiveInfinity }, file["d"].ReadFloat32(allowNarrowing: true));
        Assert.Throws<InvalidOperationException>(() => file["l"].ReadFloat64());
        Assert.Equal((double)((1L << 53) + 1), file["l"].ReadFloat64(allowNarrowing: true)[0]);
        var range = Assert.Throws<SafeTensorsFormatException>(() => file["l"].ReadInt32());
        Assert.Contains("element 0", range.Message);
        Assert.Throws<InvalidOperationException>(() => file["f"].ReadInt64());
        Assert.Throws<ArgumentException>(() => file["f"].ReadFloat32(new float[2]));
        var missing = Assert.Throws<KeyNotFoundException>(() => file["nope"]);
        Assert.Contains("'lossy'", missing.Message);
    }

    [Fact]
    public void HeaderIsSpacePaddedTo8BytesAndOrderedLikeTheReference()
    {
        var w = new SafeTensorsWriter()
            .Add("b", [1], new[] { 1f })
            .Add("a", [3], new[] { 1f, 2f, 3f })
            .Add("c", [1], new[] { 2.0 })
            .AddRaw("h", SafeTensorsDType.F16, [1], new byte[2]);
        var bytes = w.ToArray();
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.StartsWith("{", header);
        Assert.EndsWith("}", header.TrimEnd(' '));
        Assert.True(header.TrimEnd(' ').Length > (int)n - 8, "padding is shorter than 8 bytes");
        // Larger dtypes first, then names: c (F64), a, b (F32), h (F16).
        var file = SafeTensorsFile.Parse(bytes, "order");
        Assert.Equal(new[] { "c", "a", "b", "h" }, file.Entries.Select(e => e.Name));
        Assert.Equal(bytes.Length, 8 + (long)n + file.Entries.Sum(e => e.ByteLength));
    }

    [Fact]
    public void WriterRejectsBadEntries()
    {
        var w = new SafeTensorsWriter().Add("x", [2], new[] { 1f, 2f });
        Assert.Contains("already", Assert.Throws<ArgumentException>(() => w.Add("x", [2], new[] { 1f, 2f })).Message);
        Assert.Contains("holds 6 elements", Assert.Throws<ArgumentException>(() => w.Add("y", [2, 3], new[] { 1f })).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => w.Add("z", [-1], Array.Empty<float>())).Message);
        Assert.Throws<ArgumentException>(() => w.Add("__metadata__", [1], new[] { 1f }));
        Assert.Throws<ArgumentException>(() => w.AddRaw("odd", SafeTensorsDType.F32, [1], new byte[3]));
    }

    [Fact]
    public void SaveReplacesAtomicallyAndLeavesOldFileOnFailure()
    {
        var path = Path.Combine(_dir, "model.safetensors");
        new SafeTensorsWriter().Add("v", [1], new[] { 1f }).Save(path);
        new SafeTensorsWriter().Add("v", [2], new[] { 2f, 3f }).Save(path);
        Assert.Equal(new[] { 2f, 3f }, SafeTensorsFile.Read(path)["v"].ReadFloat32());
        var before = File.ReadAllBytes(path);

        var failing = new SafeTensorsWriter()
            .Add("ok", [1], new[] { 5f })
            .Add("bad", [4], new ThrowingMemory(4).Memory);
        Assert.Throws<IOException>(() => failing.Save(path));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.safetensors" }, Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void OpenReadsOnDemandIntoSpansAndRefusesAfterDispose()
    {
        var path = Path.Combine(_dir, "flat.safetensors");
        new SafeTensorsWriter().Add("w", [2, 2], new[] { 1f, 2f, 3f, 4f }).Add("b", [2], new[] { 5f, 6f }).Save(path);
        var flat = new float[6]; // one flat parameter buffer, as modules keep them
        var file = SafeTensorsFile.Open(path);
        file["w"].ReadFloat32(flat.AsSpan(0, 4));
        file["b"].ReadFloat32(flat.AsSpan(4, 2));
        Assert.Equal(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, flat);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file["w"].ReadFloat32());
        Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Read(Path.Combine(_dir, "missing.safetensors")));
    }

    /// <summary>Memory whose span cannot be produced: simulates a failure in the middle of writing.</summary>
    private sealed class ThrowingMemory(int length) : MemoryManager<float>
    {
        public override Span<float> GetSpan() => throw new IOException("simulated write failure");
        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
        public override Memory<float> Memory => CreateMemory(length);
    }
}
