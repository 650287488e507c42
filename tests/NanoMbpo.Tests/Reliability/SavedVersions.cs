// Versioned files of each kind the project saves, written through the project's own writers (Checkpoint,
// SafeTensorsWriter, TaskmasterWriter, AtomicFile), and a checker that reloads one and returns its version or
// throws when it is torn or inconsistent. Used by ChildMain's save loop and AtomicWriteKillTests.
using System.Text.Json;
using NanoMbpo.Dialog.Corpus;
using NanoMbpo.IO;
using NanoMbpo.NN;

namespace NanoMbpo.Tests.Reliability;

public static class SavedVersions
{
    public static readonly string[] Kinds = ["checkpoint", "safetensors", "corpus", "text"];

    static int Elements(int version) => 100_000 + version % 5 * 40_000; // sizes change, so a torn file cannot pass
    static int Dialogs(int version) => 2 + version % 3;

    public static void Save(string kind, string path, int version)
    {
        switch (kind)
        {
            case "checkpoint":
                var store = new ParameterStore();
                store.Create("w", Elements(version)).F32.Fill(version);
                store.Create("b", 7).F32.Fill(-version);
                Checkpoint.Save(store, path, new Dictionary<string, string> { ["version"] = version.ToString() });
                break;
            case "safetensors":
                var w = new SafeTensorsWriter();
                var data = new float[Elements(version)];
                Array.Fill(data, version);
                w.Add("v", [data.Length], new ReadOnlyMemory<float>(data));
                w.Metadata["version"] = version.ToString();
                w.Save(path);
                break;
            case "corpus":
                TaskmasterWriter.WriteFile(path, new CorpusGenerator().Generate(Dialogs(version), (ulong)version));
                break;
            case "text":
                AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new { version, pad = new string('x', Elements(version)) }));
                break;
            default: throw new ArgumentException($"unknown kind '{kind}'");
        }
    }

    /// <summary>Reloads <paramref name="path"/>; returns its version (the dialog count for a corpus) or throws.</summary>
    public static int Check(string kind, string path)
    {
        switch (kind)
        {
            case "checkpoint":
            case "safetensors":
                var f = SafeTensorsFile.Read(path);
                int v = int.Parse(f.Metadata["version"]);
                var t = f[kind == "checkpoint" ? "w" : "v"];
                var values = new float[t.ShapeArray()[0]];
                if (values.Length != Elements(v)) throw new InvalidDataException($"version {v} holds {values.Length} values, expected {Elements(v)}");
                t.ReadFloat32(values);
                if (values.Any(x => x != v)) throw new InvalidDataException($"version {v} holds other values");
                return v;
            case "corpus":
                var dialogs = TaskmasterReader.ReadFile(path);
                if (dialogs.Count is < 2 or > 4) throw new InvalidDataException($"{dialogs.Count} dialogs");
                return dialogs.Count;
            case "text":
                using (var doc = JsonDocument.Parse(File.ReadAllText(path)))
                {
                    int tv = doc.RootElement.GetProperty("version").GetInt32();
                    if (doc.RootElement.GetProperty("pad").GetString()!.Length != Elements(tv)) throw new InvalidDataException("pad length");
                    return tv;
                }
            default: throw new ArgumentException($"unknown kind '{kind}'");
        }
    }
}
