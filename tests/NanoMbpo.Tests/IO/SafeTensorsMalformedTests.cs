// Malformed safetensors files, crafted byte by byte: each must fail with a SafeTensorsFormatException that
// names the file, and the tensor and header field at fault. Also reads a hand-made file laid out exactly as
// the Python `safetensors` package writes one (the spec), to pin the format independently of our writer.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
using System.Buffers.Binary;
using System.Text;
using NanoMbpo.IO;
using Xunit;

namespace NanoMbpo.Tests.IO;

public sealed class SafeTensorsMalformedTests
{
    private const string Src = "crafted.safetensors";

    /// <summary>8-byte LE length (the real one unless overridden) + header bytes + buffer of given size.</summary>
    private static byte[] Craft(string header, int bufferBytes, ulong? lengthOverride = null) =>
        Craft(Encoding.UTF8.GetBytes(header), bufferBytes, lengthOverride);

    private static byte[] Craft(byte[] header, int bufferBytes, ulong? lengthOverride = null)
    {
        var bytes = new byte[8 + header.Length + bufferBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, lengthOverride ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        for (int i = 0; i < bufferBytes; i++) bytes[8 + header.Length + i] = (byte)i;
        return bytes;
    }

    private static SafeTensorsFormatException Fails(byte[] bytes, string? tensor, string? field, string fragment)
    {
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Parse(bytes, Src));
        Assert.Contains(Src, ex.Message);
        Assert.Equal(tensor, ex.TensorName);
        Assert.Equal(field, ex.Field);
        Assert.Contains(fragment, ex.Message);
        return ex;
    }

    private const string A8 = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    [Fact]
    public void WellFormedCraftedFileParses()
    {
        var file = SafeTensorsFile.Parse(Craft("{" + A8 + "}", 8), Src);
        Assert.Equal("a", Assert.Single(file.Entries).Name);
        // Header lengths need not be multiples of 8 when reading; trailing spaces are JSON whitespace.
        SafeTensorsFile.Parse(Craft("{" + A8 + "}   ", 8), Src);
    }

    [Fact]
    public void FileShorterThanPrefix() => Fails(new byte[5], null, null, "shorter than the 8-byte");

    [Fact]
    public void HeaderLengthBeyondFile() => Fails(Craft("{" + A8 + "}", 8, lengthOverride: 1000), null, "header length", "exceeds");

    [Fact]
    public void HugeHeaderLengthDoesNotOverflow() => Fails(Craft("{}", 0, lengthOverride: ulong.MaxValue), null, "header length", "exceeds");

    [Fact]
    public void InvalidJson() => Fails(Craft("{\"a\":{\"dtype\":\"F32\",}", 0), null, "header", "not valid UTF-8 JSON");

    [Fact]
    public void InvalidUtf8() => Fails(Craft(new byte[] { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}' }, 0), null, "header", "UTF-8");

    [Fact]
    public void HeaderNotAnObject() => Fails(Craft("[1,2]", 0), null, "header", "must start with '{'");

    [Fact]
    public void UnknownDType() =>
        Fails(Craft("{\"a\":{\"dtype\":\"F8_E9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "a", "dtype", "unsupported dtype \"F8_E9\"");

    [Fact]
    public void ShapeDisagreesWithByteLength() =>
        Fails(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "a", "data_offsets", "needs 3 x 4 = 12 bytes");

    [Fact]
    public void OffsetsBeyondBuffer() =>
        Fails(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8), "a", "data_offsets", "runs past the end of the 8-byte data buffer");

    [Fact]
    public void EndBeforeBegin() =>
        Fails(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8), "a", "data_offsets", "before begin");

    [Fact]
    public void OverlappingOffsets() =>
        Fails(Craft("{" + A8 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "b", "data_offsets", "overlaps tensor 'a'");

    [Fact]
    public void OffsetsMayBeListedOutOfOrderButMustTile()
    {
        // Header order is irrelevant (a JSON map); the reference sorts by offset. b then a is fine.
        var ok = Craft("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}," + A8 + "}", 12);
        Assert.Equal(new[] { "a", "b" }, SafeTensorsFile.Parse(ok, Src).Entries.Select(e => e.Name));
    }

    [Fact]
    public void GapBetweenTensors() =>
        Fails(Craft("{" + A8 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16), "b", "data_offsets", "a gap of 4 bytes");

    [Fact]
    public void GapAtStart() =>
        Fails(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "a", "data_offsets", "a gap of 4 bytes");

    [Fact]
    public void TrailingUncoveredBytes() => Fails(Craft("{" + A8 + "}", 12), null, "data_offsets", "trailing bytes");

    [Fact]
    public void DuplicateNames() => Fails(Craft("{" + A8 + "," + A8 + "}", 8), "a", null, "duplicate name");

    [Fact]
    public void NegativeDimension() =>
        Fails(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "a", "shape", "dimension 0 is negative");

    [Fact]
    public void FractionalDimension() =>
        Fails(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8), "a", "shape", "expected an integer");

    [Fact]
    public void MissingAndUnexpectedFields()
    {
        Fails(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "a", "data_offsets", "missing");
        Fails(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"stride\":[1]}}", 8), "a", "stride", "unexpected field");
        Fails(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8), "a", "data_offsets", "must be [begin, end]");
    }

    [Fact]
    public void MetadataMustBeStrings() =>
        Fails(Craft("{\"__metadata__\":{\"format\":1}," + A8 + "}", 8), null, "__metadata__.format", "must be strings");

    [Fact]
    public void TruncatedFileFailsBothInMemoryAndOnDisk()
    {
        var good = new SafeTensorsWriter().Add("w", [4, 4], new float[16]).Add("b", [4], new float[4]).ToArray();
        var cut = good[..^3];
        Fails(cut, "w", "data_offsets", "truncated file?"); // b then w (name order), so w is cut
        var path = Path.Combine(Path.GetTempPath(), $"nanombpo-trunc-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, cut);
            var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
            Assert.Contains(path, ex.Message);
            ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Read(path));
            Assert.Equal("w", ex.TensorName);
            File.WriteAllBytes(path, good[..20]);
            Assert.Equal("header length", Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path)).Field);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ReadsAFileLaidOutAsThePythonPackageWritesIt()
    {
        // safetensors.torch.save_file({"weight": torch.tensor([[1.,2.],[3.,4.]]), "ids": torch.tensor([7, -1])},
        // metadata={"format":"pt"}) writes: compact JSON, metadata first, tensors sorted by (dtype size desc,
        // name), header space-padded to a multiple of 8. Reproduced by hand from the spec.
        const string json = "{\"__metadata__\":{\"format\":\"pt\"},\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                          + "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,32]}}";
        var header = json.PadRight((json.Length + 7) / 8 * 8);
        var data = new byte[32];
        BinaryPrimitives.WriteInt64LittleEndian(data, 7);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), -1);
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(16 + 4 * i), i + 1);
        var bytes = Craft(header, 0).Concat(data).ToArray();

        var file = SafeTensorsFile.Parse(bytes, Src);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(new long[] { 7, -1 }, file["ids"].ReadInt64());
        Assert.Equal(new[] { 2, 2 }, file["weight"].Shape);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, file["weight"].ReadFloat32());
        // Our writer must produce the identical bytes for the same content.
        var w = new SafeTensorsWriter().Add("weight", [2, 2], new[] { 1f, 2f, 3f, 4f }).Add("ids", [2], new long[] { 7, -1 });
        w.Metadata["format"] = "pt";
        Assert.Equal(bytes, w.ToArray());
    }

    [Fact]
    public void WriterMatchesTheReferenceSerializationVectors()
    {
        // The reference implementation's own unit tests pin these layouts: one F32 tensor "attn.0" of
        // shape [1,2,3] gives a 64-byte header with no padding; an empty file with metadata
        // {"framework":"pt"} gives a 35-byte JSON padded with 5 spaces to 40.
        var values = new[] { 0f, 1f, 2f, 3f, 4f, 5f };
        const string attn = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        Assert.Equal(64, attn.Length);
        var expected = Craft(attn, 0).Concat(values.SelectMany(BitConverter.GetBytes)).ToArray();
        Assert.Equal(expected, new SafeTensorsWriter().Add("attn.0", [1, 2, 3], values).ToArray());

        var empty = new SafeTensorsWriter();
        empty.Metadata["framework"] = "pt";
        Assert.Equal(Craft("{\"__metadata__\":{\"framework\":\"pt\"}}     ", 0), empty.ToArray());
        Assert.Equal(Craft("{}      ", 0), new SafeTensorsWriter().ToArray());
    }

    [Fact]
    public void WriterOrdersByReferenceDTypeRankThenName()
    {
        // Reference order: U64, I64, F64, F32, ... (enum rank descending), names ascending within a dtype.
        var w = new SafeTensorsWriter()
            .Add("a64", [1], new[] { 1.0 })
            .Add("z64", [1], new long[] { 1 })
            .Add("b32", [1], new[] { 1f })
            .Add("a32", [1], new[] { 1 });
        var names = SafeTensorsFile.Parse(w.ToArray(), Src).Entries.Select(e => e.Name);
        Assert.Equal(new[] { "z64", "a64", "b32", "a32" }, names);
    }
}
