// Safetensors reader: 8-byte little-endian header length, JSON header, byte buffer. The whole header is
// validated against the file length before any tensor is exposed (see SafeTensorsHeader).
// Read(path) loads the file into memory (simple, no handle kept); Open(path) keeps a file handle and reads
// tensors on demand (large checkpoints); Parse(bytes) reads a buffer already in memory.
// Tests: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace NanoMbpo.IO;

/// <summary>A parsed, validated safetensors file. Dispose it when it came from <see cref="Open"/>.</summary>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly byte[]? _bytes;          // whole file, when loaded into memory
    private readonly SafeFileHandle? _handle;  // open file, when reading on demand
    private readonly long _bufferStart;        // file offset of the data buffer: 8 + header length
    private readonly Dictionary<string, SafeTensorEntry> _byName;

    /// <summary>The path (or source name given to <see cref="Parse"/>), used in every error message.</summary>
    public string Path { get; }

    /// <summary>The optional "__metadata__" string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Entries in data-buffer order.</summary>
    public IReadOnlyList<SafeTensorEntry> Entries { get; }

    private SafeTensorsFile(string path, byte[]? bytes, SafeFileHandle? handle, long bufferStart,
        List<SafeTensorsHeaderEntry> entries, Dictionary<string, string> metadata)
    {
        Path = path;
        _bytes = bytes;
        _handle = handle;
        _bufferStart = bufferStart;
        Metadata = metadata;
        var list = new List<SafeTensorEntry>(entries.Count);
        _byName = new Dictionary<string, SafeTensorEntry>(entries.Count, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            var entry = new SafeTensorEntry(this, e.Name, e.DType, e.Shape, e.Begin, e.End - e.Begin);
            list.Add(entry);
            _byName.Add(e.Name, entry);
        }
        Entries = list;
    }

    /// <summary>Reads and validates the whole file into memory (files up to ~2 GB; use <see cref="Open"/> beyond).</summary>
    public static SafeTensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"safetensors file '{path}' does not exist", path);
        if (info.Length > Array.MaxLength)
            throw new SafeTensorsFormatException(path, null, null, $"file is {info.Length} bytes, too large to load into memory; use SafeTensorsFile.Open");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses a complete safetensors image held in memory; <paramref name="sourceName"/> names it in errors.</summary>
    public static SafeTensorsFile Parse(byte[] bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ulong headerLength = bytes.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : 0;
        int n = SafeTensorsHeader.CheckHeaderLength(sourceName, headerLength, bytes.Length);
        var (entries, metadata) = SafeTensorsHeader.Parse(sourceName, bytes.AsSpan(8, n), bytes.Length - 8L - n);
        return new SafeTensorsFile(sourceName, bytes, null, 8L + n, entries, metadata);
    }

    /// <summary>Opens the file, validates its header and keeps the handle to read tensors on demand.</summary>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long length = RandomAccess.GetLength(handle);
            Span<byte> prefix = stackalloc byte[8];
            ulong headerLength = length >= 8 && RandomAccess.Read(handle, prefix, 0) == 8
                ? BinaryPrimitives.ReadUInt64LittleEndian(prefix) : 0;
            int n = SafeTensorsHeader.CheckHeaderLength(path, headerLength, length);
            var header = new byte[n];
            ReadExactly(handle, header, 8, path);
            var (entries, metadata) = SafeTensorsHeader.Parse(path, header, length - 8L - n);
            return new SafeTensorsFile(path, null, handle, 8L + n, entries, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>True when a tensor of that name exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Looks a tensor up by name without throwing.</summary>
    public bool TryGet(string name, out SafeTensorEntry entry) => _byName.TryGetValue(name, out entry!);

    /// <summary>The tensor of that name; throws naming the file and the available names when absent.</summary>
    public SafeTensorEntry this[string name]
    {
        get
        {
            if (_byName.TryGetValue(name, out var entry)) return entry;
            var names = string.Join(", ", _byName.Keys.Take(20)) + (_byName.Count > 20 ? ", ..." : "");
            throw new KeyNotFoundException($"safetensors file '{Path}' has no tensor named '{name}' (it has: {names})");
        }
    }

    /// <summary>Copies the raw little-endian bytes of an entry (offset relative to the buffer).</summary>
    internal void CopyBytes(long bufferOffset, Span<byte> destination)
    {
        long fileOffset = _bufferStart + bufferOffset;
        if (_bytes is not null)
        {
            _bytes.AsSpan(checked((int)fileOffset), destination.Length).CopyTo(destination);
            return;
        }
        ObjectDisposedException.ThrowIf(_handle is null || _handle.IsClosed, this);
        ReadExactly(_handle!, destination, fileOffset, Path);
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long fileOffset, string path)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(handle, destination, fileOffset);
            if (read <= 0)
                throw new SafeTensorsFormatException(path, null, null, $"unexpected end of file at byte {fileOffset} (file changed or truncated while open?)");
            destination = destination[read..];
            fileOffset += read;
        }
    }

    public void Dispose() => _handle?.Dispose();
}
