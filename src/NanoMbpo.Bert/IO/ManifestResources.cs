// ManifestResources: reads the embedded manifest resources of a .NET assembly with
// System.Reflection.Metadata's PEReader, without loading the assembly (no code of it runs).
// Each embedded resource is a 4-byte little-endian length followed by its bytes, at the resource's
// offset inside the CLI header's resources directory.
// Tests: tests/NanoMbpo.Bert.Tests/ManifestResourcesTests.cs (an assembly of our own and the MiniLM package).
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace NanoMbpo.Bert.IO;

public static class ManifestResources
{
    /// <summary>Names of the embedded manifest resources of the assembly at <paramref name="path"/>.</summary>
    public static IReadOnlyList<string> List(string path) => Guard(path, () => ListCore(path));

    /// <summary>The bytes of the embedded resource <paramref name="name"/>; a BertFormatException naming
    /// the file, the resource and the resources present when it is absent or lies outside the file.</summary>
    public static byte[] Read(string path, string name) => Guard(path, () => ReadCore(path, name));

    /// <summary>Metadata is decoded lazily, so a corrupt table surfaces as BadImageFormatException
    /// anywhere in a walk: it becomes the format error naming the file.</summary>
    static T Guard<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (BadImageFormatException e) { throw new BertFormatException(path, "CLI metadata", $"corrupt: {e.Message}"); }
    }

    static IReadOnlyList<string> ListCore(string path)
    {
        using var fs = OpenFile(path);
        using var pe = OpenPe(fs, path);
        var md = pe.GetMetadataReader();
        var names = new List<string>();
        foreach (var h in md.ManifestResources)
        {
            var r = md.GetManifestResource(h);
            if (r.Implementation.IsNil) names.Add(md.GetString(r.Name));
        }
        return names;
    }

    static byte[] ReadCore(string path, string name)
    {
        using var fs = OpenFile(path);
        using var pe = OpenPe(fs, path);
        var md = pe.GetMetadataReader();
        var present = new List<string>();
        foreach (var h in md.ManifestResources)
        {
            var r = md.GetManifestResource(h);
            string n = md.GetString(r.Name);
            if (!r.Implementation.IsNil) continue;   // lives in another file / assembly
            present.Add(n);
            if (n != name) continue;
            var dir = pe.PEHeaders.CorHeader?.ResourcesDirectory
                ?? throw new BertFormatException(path, "CLI header", "the assembly has no CLI header");
            if (dir.Size <= 0) throw new BertFormatException(path, "CLI resources directory", "is empty");
            if (dir.RelativeVirtualAddress < 0)   // PEReader.GetSectionData throws ArgumentOutOfRange on it
                throw new BertFormatException(path, "CLI resources directory", $"relative virtual address {dir.RelativeVirtualAddress} is negative");
            var block = pe.GetSectionData(dir.RelativeVirtualAddress);
            if (block.Length < dir.Size)
                throw new BertFormatException(path, "CLI resources directory", $"expected {dir.Size} bytes in its section, found {block.Length}");
            var dirSpan = block.GetReader(0, dir.Size);
            long offset = r.Offset;
            if (offset < 0 || offset + 4 > dir.Size)
                throw new BertFormatException(path, $"resource '{name}'", $"offset {offset} + 4 is outside the resources directory of {dir.Size} bytes");
            dirSpan.Offset = (int)offset;
            int length = dirSpan.ReadInt32();
            if (length < 0 || offset + 4 + length > dir.Size)
                throw new BertFormatException(path, $"resource '{name}'", $"length {length} at offset {offset} runs past the resources directory ({dir.Size} bytes)");
            return dirSpan.ReadBytes(length);
        }
        throw new BertFormatException(path, $"resource '{name}'", $"not found; embedded resources: [{string.Join(", ", present)}]");
    }

    static FileStream OpenFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"assembly '{path}' does not exist", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    static PEReader OpenPe(FileStream fs, string path)
    {
        var pe = new PEReader(fs, PEStreamOptions.LeaveOpen);
        try
        {
            if (!pe.HasMetadata) throw new BertFormatException(path, "PE header", "not a .NET assembly (no CLI metadata)");
            return pe;
        }
        catch (BadImageFormatException e)
        {
            pe.Dispose();
            throw new BertFormatException(path, "PE header", $"not a valid PE image: {e.Message}");
        }
        catch
        {
            pe.Dispose();
            throw;
        }
    }

}
