// Checkpoint: a ParameterStore saved as / loaded from safetensors, one tensor per parameter under its
// state-dict key. Saving writes a temp file and renames it (SafeTensorsWriter). Loading checks every
// key and shape before copying anything, so a failed load leaves the store untouched, and errors name
// the file, the key and both shapes. Tests: tests/NanoMbpo.Tests/NN/CheckpointTests.cs.
using NanoMbpo.IO;

namespace NanoMbpo.NN;

/// <param name="Strict">When true, keys in the file that match no parameter are an error.</param>
/// <param name="FilePrefix">Prepended to each parameter name to find its key in the file
/// (e.g. "bert." to load "bert.encoder.layer.0..." into parameters named "encoder.layer.0...").</param>
public sealed record LoadOptions(bool Strict = true, string FilePrefix = "");

public static class Checkpoint
{
    public static void Save(ParameterStore store, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var w = new SafeTensorsWriter();
        // A store on an accelerator is read back parameter by parameter (the file holds host copies).
        foreach (var p in store.Parameters) AddTensor(w, p.Name!, store.Device.IsCpu ? p : p.To(Device.Cpu));
        if (metadata is not null) foreach (var (k, v) in metadata) w.Metadata[k] = v;
        w.Save(path);
    }

    /// <summary>Adds a tensor (any float view) to a writer without copying its data.</summary>
    internal static void AddTensor(SafeTensorsWriter w, string key, Tensor t)
    {
        if (t.DType == DType.F32) w.Add(key, t.Shape, new ReadOnlyMemory<float>((float[])t.Storage.Array, t.Offset, t.Length));
        else if (t.DType == DType.F64) w.Add(key, t.Shape, new ReadOnlyMemory<double>((double[])t.Storage.Array, t.Offset, t.Length));
        else w.Add(key, t.Shape, new ReadOnlyMemory<int>((int[])t.Storage.Array, t.Offset, t.Length));
    }

    /// <summary>Loads every parameter of <paramref name="store"/> from <paramref name="path"/>.
    /// F64 files load into F32 stores (rounded); returns the file's metadata.</summary>
    public static IReadOnlyDictionary<string, string> Load(ParameterStore store, string path, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new LoadOptions();
        using var file = SafeTensorsFile.Open(path);
        var pairs = new List<(Tensor P, SafeTensorEntry E)>();
        var missing = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in store.Parameters)
        {
            string key = options.FilePrefix + p.Name;
            if (!file.TryGet(key, out var e)) { missing.Add(key); continue; }
            used.Add(key);
            if (!e.ShapeArray().AsSpan().SequenceEqual(p.Shape))
                throw new InvalidDataException($"checkpoint '{path}': tensor '{key}' has shape {ShapeUtil.Format(e.ShapeArray())} but the model expects {p.ShapeString}.");
            if (e.DType is not (SafeTensorsDType.F32 or SafeTensorsDType.F64 or SafeTensorsDType.F16 or SafeTensorsDType.BF16))
                throw new InvalidDataException($"checkpoint '{path}': tensor '{key}' is {e.DType}; a parameter needs a float dtype.");
            pairs.Add((p, e));
        }
        store.MarkModified();
        if (missing.Count > 0)
            throw new InvalidDataException($"checkpoint '{path}': missing {missing.Count} key(s): {List(missing)}.");
        if (options.Strict)
        {
            var unexpected = file.Entries.Select(e => e.Name).Where(n => !used.Contains(n)).ToList();
            if (unexpected.Count > 0)
                throw new InvalidDataException($"checkpoint '{path}': unexpected {unexpected.Count} key(s) (use LoadOptions(Strict: false) to ignore them): {List(unexpected)}.");
        }
        // A store on an accelerator is loaded on the host and moved back (one download, one upload).
        var device = store.Device;
        store.MoveTo(Device.Cpu);
        try
        {
            foreach (var (p, e) in pairs)
            {
                if (p.DType == DType.F32) e.ReadFloat32(p.F32, allowNarrowing: true);
                else e.ReadFloat64(p.F64);
            }
        }
        finally { store.MoveTo(device); }
        return file.Metadata;
    }

    static string List(List<string> names) => string.Join(", ", names.Take(10).Select(n => "'" + n + "'")) + (names.Count > 10 ? ", ..." : "");
}
