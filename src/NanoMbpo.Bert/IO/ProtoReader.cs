// ProtoReader: a minimal protocol-buffers wire-format reader (varint, 64-bit, length-delimited, 32-bit
// fields) over a byte buffer, enough for ONNX's ModelProto. Errors name the file and the message
// being read. Tests: tests/NanoMbpo.Bert.Tests/OnnxReaderTests.cs (hand-built and truncated buffers).
namespace NanoMbpo.Bert.IO;

internal enum WireType { Varint = 0, I64 = 1, Len = 2, I32 = 5 }

internal struct ProtoReader
{
    readonly ReadOnlyMemory<byte> buffer;
    readonly string path, message;
    int pos;

    public ProtoReader(ReadOnlyMemory<byte> buffer, string path, string message)
    {
        this.buffer = buffer; this.path = path; this.message = message; pos = 0;
    }

    public readonly bool End => pos >= buffer.Length;

    /// <summary>Reads the next tag: field number and wire type.</summary>
    public (int Field, WireType Wire) Tag()
    {
        ulong tag = Varint();
        int field = (int)(tag >> 3);
        var wire = (WireType)(tag & 7);
        if (field <= 0 || wire is not (WireType.Varint or WireType.I64 or WireType.Len or WireType.I32))
            throw Error($"bad tag {tag} (field {field}, wire type {(int)wire})");
        return (field, wire);
    }

    public ulong Varint()
    {
        var s = buffer.Span;
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= s.Length) throw Error("truncated varint");
            byte b = s[pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw Error("varint longer than 10 bytes");
    }

    public ReadOnlyMemory<byte> Bytes()
    {
        ulong n = Varint();
        if (n > (ulong)(buffer.Length - pos)) throw Error($"length-delimited field of {n} bytes at offset {pos} runs past the end ({buffer.Length - pos} left)");
        var r = buffer.Slice(pos, (int)n);
        pos += (int)n;
        return r;
    }

    public string String() => System.Text.Encoding.UTF8.GetString(Bytes().Span);

    public void Skip(WireType wire)
    {
        switch (wire)
        {
            case WireType.Varint: Varint(); break;
            case WireType.Len: Bytes(); break;
            case WireType.I64: Advance(8); break;
            case WireType.I32: Advance(4); break;
        }
    }

    void Advance(int n)
    {
        if (buffer.Length - pos < n) throw Error($"fixed field of {n} bytes at offset {pos} runs past the end");
        pos += n;
    }

    /// <summary>Appends a repeated varint field, packed (Len) or not.</summary>
    public void Int64s(WireType wire, List<long> into)
    {
        if (wire == WireType.Varint) { into.Add((long)Varint()); return; }
        if (wire != WireType.Len) throw Error($"repeated int64 field with wire type {wire}");
        var inner = new ProtoReader(Bytes(), path, message);
        while (!inner.End) into.Add((long)inner.Varint());
    }

    /// <summary>Appends a repeated float field, packed (Len) or not.</summary>
    public void Floats(WireType wire, List<float> into)
    {
        if (wire == WireType.I32)
        {
            Advance(4);
            into.Add(BitConverter.ToSingle(buffer.Span.Slice(pos - 4, 4)));
            return;
        }
        if (wire != WireType.Len) throw Error($"repeated float field with wire type {wire}");
        var b = Bytes().Span;
        if (b.Length % 4 != 0) throw Error($"packed float field of {b.Length} bytes is not a multiple of 4");
        for (int i = 0; i < b.Length; i += 4) into.Add(BitConverter.ToSingle(b.Slice(i, 4)));
    }

    public readonly void Expect(WireType actual, WireType expected, string field)
    {
        if (actual != expected) throw Error($"field {field}: expected wire type {expected}, got {actual}");
    }

    public readonly BertFormatException Error(string what) => new(path, message, what);
}
