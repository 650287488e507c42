// Parses and validates the JSON header of a safetensors file against the byte-buffer length:
// known dtypes, non-negative shapes, shape x dtype size == byte length, offsets in bounds, sorted by
// offset with neither gaps nor overlaps and covering the whole buffer (as the reference implementation
// requires), no duplicate names, "__metadata__" a string -> string map.
// Tests: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
using System.Text;
using System.Text.Json;

namespace NanoMbpo.IO;

/// <summary>One validated header record; offsets are relative to the start of the byte buffer.</summary>
internal readonly record struct SafeTensorsHeaderEntry(string Name, SafeTensorsDType DType, int[] Shape, long Begin, long End);

internal static class SafeTensorsHeader
{
    /// <summary>Same cap as the reference implementation: a larger header is treated as corrupt.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    /// <summary>
    /// Validates the 8-byte prefix value against the file length and returns the header length.
    /// </summary>
    public static int CheckHeaderLength(string source, ulong headerLength, long fileLength)
    {
        if (fileLength < 8)
            throw new SafeTensorsFormatException(source, null, null,
                $"file is {fileLength} bytes, shorter than the 8-byte header-length prefix (truncated?)");
        if (headerLength > (ulong)(fileLength - 8))
            throw new SafeTensorsFormatException(source, null, "header length",
                $"header length {headerLength} exceeds the {fileLength - 8} bytes after the prefix (truncated or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw new SafeTensorsFormatException(source, null, "header length",
                $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLength < 2)
            throw new SafeTensorsFormatException(source, null, "header length",
                $"header length {headerLength} is too small to hold a JSON object");
        return (int)headerLength;
    }

    /// <summary>Parses the header bytes; <paramref name="bufferLength"/> is the file length minus 8 minus the header.</summary>
    public static (List<SafeTensorsHeaderEntry> Entries, Dictionary<string, string> Metadata) Parse(
        string source, ReadOnlySpan<byte> header, long bufferLength)
    {
        if (header[0] != (byte)'{')
            throw new SafeTensorsFormatException(source, null, "header",
                $"header must start with '{{' but starts with byte 0x{header[0]:X2} (not a safetensors file?)");

        JsonDocument doc;
        try
        {
            // The reference implementation rejects non-UTF-8 headers; the strict decoder does the same here.
            var text = new UTF8Encoding(false, true).GetString(header);
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException or ArgumentException)
        {
            throw new SafeTensorsFormatException(source, null, "header", $"header is not valid UTF-8 JSON: {e.Message}", e);
        }

        using (doc)
        try
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(source, null, "header", $"header must be a JSON object, found {doc.RootElement.ValueKind}");

            var entries = new List<SafeTensorsHeaderEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                // JsonDocument keeps duplicate keys; the format forbids them (which one would win is ambiguous).
                if (!seen.Add(property.Name))
                    throw new SafeTensorsFormatException(source, property.Name, null, "duplicate name in the header");
                if (property.Name == MetadataKey)
                    ParseMetadata(source, property.Value, metadata);
                else
                    entries.Add(ParseEntry(source, property.Name, property.Value));
            }
            CheckCoverage(source, entries, bufferLength);
            return (entries, metadata);
        }
        catch (InvalidOperationException e) when (e.Source?.StartsWith("System.Text.Json", StringComparison.Ordinal) == true)
        {
            // Valid JSON can still hold a string that is not valid Unicode (an escaped lone surrogate, "\ud800").
            throw new SafeTensorsFormatException(source, null, "header", $"header holds a string that is not valid Unicode: {e.Message}", e);
        }
    }

    private static void ParseMetadata(string source, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(source, null, MetadataKey, $"must be a JSON object of strings, found {value.ValueKind}");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new SafeTensorsFormatException(source, null, $"{MetadataKey}.{item.Name}", $"metadata values must be strings, found {item.Value.ValueKind}");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new SafeTensorsFormatException(source, null, $"{MetadataKey}.{item.Name}", "duplicate metadata key");
        }
    }

    private static SafeTensorsHeaderEntry ParseEntry(string source, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(source, name, null, $"tensor info must be a JSON object, found {value.ValueKind}");

        JsonElement? dtypeEl = null, shapeEl = null, offsetsEl = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtypeEl is null: dtypeEl = field.Value; break;
                case "shape" when shapeEl is null: shapeEl = field.Value; break;
                case "data_offsets" when offsetsEl is null: offsetsEl = field.Value; break;
                case "dtype" or "shape" or "data_offsets":
                    throw new SafeTensorsFormatException(source, name, field.Name, "field appears twice");
                default:
                    throw new SafeTensorsFormatException(source, name, field.Name, "unexpected field (expected dtype, shape, data_offsets)");
            }
        }

        if (dtypeEl is not { } d) throw new SafeTensorsFormatException(source, name, "dtype", "missing");
        if (shapeEl is not { } s) throw new SafeTensorsFormatException(source, name, "shape", "missing");
        if (offsetsEl is not { } o) throw new SafeTensorsFormatException(source, name, "data_offsets", "missing");

        if (d.ValueKind != JsonValueKind.String || !SafeTensorsDTypes.TryParse(d.GetString()!, out var dtype))
            throw new SafeTensorsFormatException(source, name, "dtype",
                $"unknown or unsupported dtype {d.GetRawText()} (supported: {SafeTensorsDTypes.Supported})");

        if (s.ValueKind != JsonValueKind.Array)
            throw new SafeTensorsFormatException(source, name, "shape", $"must be an array of non-negative integers, found {s.ValueKind}");
        var shape = new int[s.GetArrayLength()];
        long count = 1;
        int axis = 0;
        foreach (var dim in s.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long n))
                throw new SafeTensorsFormatException(source, name, "shape", $"dimension {axis} is {dim.GetRawText()}, expected an integer");
            if (n < 0)
                throw new SafeTensorsFormatException(source, name, "shape", $"dimension {axis} is negative ({n})");
            if (n > int.MaxValue)
                throw new SafeTensorsFormatException(source, name, "shape", $"dimension {axis} = {n} exceeds {int.MaxValue}");
            shape[axis++] = (int)n;
            try { count = checked(count * n); }
            catch (OverflowException) { throw new SafeTensorsFormatException(source, name, "shape", "element count overflows a 64-bit integer"); }
        }

        if (o.ValueKind != JsonValueKind.Array || o.GetArrayLength() != 2)
            throw new SafeTensorsFormatException(source, name, "data_offsets", $"must be [begin, end], found {o.GetRawText()}");
        var offsets = new long[2];
        for (int i = 0; i < 2; i++)
        {
            var el = o[i];
            if (el.ValueKind != JsonValueKind.Number || !el.TryGetInt64(out offsets[i]) || offsets[i] < 0)
                throw new SafeTensorsFormatException(source, name, "data_offsets", $"{(i == 0 ? "begin" : "end")} is {el.GetRawText()}, expected a non-negative integer");
        }
        long begin = offsets[0], end = offsets[1];
        if (end < begin)
            throw new SafeTensorsFormatException(source, name, "data_offsets", $"end {end} is before begin {begin}");

        long expectedBytes;
        try { expectedBytes = checked(count * SafeTensorsDTypes.SizeOf(dtype)); }
        catch (OverflowException) { throw new SafeTensorsFormatException(source, name, "shape", "byte size overflows a 64-bit integer"); }
        if (end - begin != expectedBytes)
            throw new SafeTensorsFormatException(source, name, "data_offsets",
                $"covers {end - begin} bytes but shape [{string.Join(",", shape)}] of {dtype} needs {count} x {SafeTensorsDTypes.SizeOf(dtype)} = {expectedBytes} bytes");
        return new SafeTensorsHeaderEntry(name, dtype, shape, begin, end);
    }

    /// <summary>Sorts by offset and checks the entries tile [0, bufferLength) exactly.</summary>
    private static void CheckCoverage(string source, List<SafeTensorsHeaderEntry> entries, long bufferLength)
    {
        // Zero-byte entries sort first at equal begin so they never look like an overlap.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long cursor = 0;
        string? previous = null;
        foreach (var e in entries)
        {
            if (e.End > bufferLength)
                throw new SafeTensorsFormatException(source, e.Name, "data_offsets",
                    $"[{e.Begin}, {e.End}] runs past the end of the {bufferLength}-byte data buffer (truncated file?)");
            if (e.Begin < cursor)
                throw new SafeTensorsFormatException(source, e.Name, "data_offsets",
                    $"[{e.Begin}, {e.End}] overlaps tensor '{previous}' which ends at {cursor}");
            if (e.Begin > cursor)
                throw new SafeTensorsFormatException(source, e.Name, "data_offsets",
                    $"begins at {e.Begin} but the previous data ends at {cursor}: a gap of {e.Begin - cursor} bytes (the buffer must be fully covered)");
            cursor = e.End;
            previous = e.Name;
        }
        if (cursor != bufferLength)
            throw new SafeTensorsFormatException(source, null, "data_offsets",
                $"tensors cover {cursor} bytes but the data buffer holds {bufferLength} (trailing bytes not described by the header)");
    }
}
