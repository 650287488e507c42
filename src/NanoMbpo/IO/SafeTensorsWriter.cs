// Safetensors writer: collects named (dtype, shape, data) entries and writes them in the standard layout,
// ordered as the reference implementation does (dtype enum order descending, i.e. larger
// alignment first, then by name), header padded with
// spaces to a multiple of 8 so the data buffer is 8-byte aligned. Save() writes a temp file in the target
// directory and renames it over the target, so a failure leaves any old file untouched.
// Tests: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NanoMbpo.IO;

/// <summary>Builds a safetensors file. Data is referenced, not copied: keep it unchanged until Save returns.</summary>
public sealed class SafeTensorsWriter
{
    // Write is a closure over the caller's memory so typed arrays are written without an intermediate copy.
    private readonly record struct Pending(string Name, SafeTensorsDType DType, int[] Shape, long ByteLength, Action<Stream> Write);

    private readonly Dictionary<string, Pending> _entries = new(StringComparer.Ordinal);

    /// <summary>The "__metadata__" string map written into the header (omitted when empty).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public SafeTensorsWriter Add(string name, int[] shape, ReadOnlyMemory<float> data) =>
        AddCore(name, SafeTensorsDType.F32, shape, data.Length, Writer(data));

    public SafeTensorsWriter Add(string name, int[] shape, ReadOnlyMemory<double> data) =>
        AddCore(name, SafeTensorsDType.F64, shape, data.Length, Writer(data));

    public SafeTensorsWriter Add(string name, int[] shape, ReadOnlyMemory<long> data) =>
        AddCore(name, SafeTensorsDType.I64, shape, data.Length, Writer(data));

    public SafeTensorsWriter Add(string name, int[] shape, ReadOnlyMemory<int> data) =>
        AddCore(name, SafeTensorsDType.I32, shape, data.Length, Writer(data));

    /// <summary>Adds already-encoded little-endian bytes (any dtype, e.g. F16/BF16).</summary>
    public SafeTensorsWriter AddRaw(string name, SafeTensorsDType dtype, int[] shape, ReadOnlyMemory<byte> bytes)
    {
        int size = SafeTensorsDTypes.SizeOf(dtype);
        if (bytes.Length % size != 0)
            throw new ArgumentException($"tensor '{name}': {bytes.Length} bytes is not a whole number of {dtype} elements", nameof(bytes));
        return AddCore(name, dtype, shape, bytes.Length / size, Writer(bytes));
    }

    private SafeTensorsWriter AddCore(string name, SafeTensorsDType dtype, int[] shape, long elements, (long Bytes, Action<Stream> Write) data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (name.Length == 0) throw new ArgumentException("tensor name must not be empty", nameof(name));
        if (name == SafeTensorsHeader.MetadataKey)
            throw new ArgumentException($"'{SafeTensorsHeader.MetadataKey}' is reserved for the metadata map", nameof(name));
        if (_entries.ContainsKey(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0) throw new ArgumentException($"tensor '{name}': dimension {i} is negative ({shape[i]})", nameof(shape));
            count = checked(count * shape[i]);
        }
        if (count != elements)
            throw new ArgumentException(
                $"tensor '{name}': shape [{string.Join(",", shape)}] holds {count} elements but the data has {elements}", nameof(shape));
        _entries.Add(name, new Pending(name, dtype, (int[])shape.Clone(), data.Bytes, data.Write));
        return this;
    }

    /// <summary>Writes the file atomically: temp file beside <paramref name="path"/>, flushed, then renamed over it (<see cref="AtomicFile"/>).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory", nameof(path));
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"cannot save safetensors file '{path}': directory '{dir}' does not exist");
        AtomicFile.Write(full, WriteTo, createDirectory: false);
    }

    /// <summary>The complete file image in memory.</summary>
    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    /// <summary>Writes prefix, header and data buffer to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writer needs a little-endian host");
        var ordered = _entries.Values
            .OrderByDescending(e => (int)e.DType)
            .ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();
        var header = BuildHeader(ordered);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (var e in ordered) e.Write(stream);
    }

    private byte[] BuildHeader(List<Pending> ordered)
    {
        using var ms = new MemoryStream();
        // Relaxed escaping writes non-ASCII and '+', '<', '\'' literally, as serde_json (the reference) does,
        // so equal content gives byte-identical headers; the header is never embedded in HTML.
        using (var json = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (Metadata.Count > 0)
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach (var (key, value) in Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    json.WriteString(key, value ?? throw new InvalidOperationException($"metadata '{key}' is null"));
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var e in ordered)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", SafeTensorsDTypes.ToHeaderString(e.DType));
                json.WriteStartArray("shape");
                foreach (var d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + e.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += e.ByteLength;
            }
            json.WriteEndObject();
        }
        // Pad with spaces (valid JSON whitespace) so the data buffer starts 8-byte aligned.
        int padding = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < padding; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }

    private static (long, Action<Stream>) Writer<T>(ReadOnlyMemory<T> data) where T : unmanaged =>
        ((long)data.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>(), s => s.Write(MemoryMarshal.AsBytes(data.Span)));
}
