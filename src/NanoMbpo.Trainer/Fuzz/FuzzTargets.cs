// Every parser the project has, registered once as a fuzz target: its name, valid seed files, how to run it on
// bytes, and which exception is its own format error. A new parser joins with one line in All (plus its seeds).
// `nanombpo fuzz` and tests/NanoMbpo.Tests/Reliability/FuzzTests.cs (CsCheck) both enumerate this list.
// RunFuzzTargets.cs adds the RL run folder files and the utterance cache.
using System.Text;
using System.Text.Json;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Corpus;
using NanoMbpo.Dialog.Rewards;
using NanoMbpo.IO;
using NanoMbpo.Bert;
using NanoMbpo.Bert.IO;
using NanoMbpo.NN;
using NanoMbpo.Trainer.Cli;

namespace NanoMbpo.Trainer.Fuzz;

/// <param name="Run">Parses the input; <c>scratch</c> is a per-target file path the target may write the input to
/// (its name must appear in a format error's message).</param>
/// <param name="IsOwnError">The parser's own format exception; null when the parser may never throw.</param>
public sealed record FuzzTarget(string Name, string Description, Func<IReadOnlyList<byte[]>> Seeds,
    Action<byte[], string> Run, Func<Exception, bool>? IsOwnError);

public static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("safetensors", "SafeTensorsFile.Parse on a buffer, then every tensor read", SafeTensorsSeeds, (b, s) => ReadAll(SafeTensorsFile.Parse(b, s)), e => e is SafeTensorsFormatException),
        new("safetensors-open", "SafeTensorsFile.Open on a file (reads on demand)", SafeTensorsSeeds, OpenSafeTensors, e => e is SafeTensorsFormatException),
        new("checkpoint", "Checkpoint.Load into a two-parameter store", CheckpointSeeds, LoadCheckpoint, e => e is SafeTensorsFormatException or InvalidDataException),
        new("pizza", "PizzaFile.Read (JSON Lines, EXR s-expressions)", PizzaSeeds, (b, s) => { File.WriteAllBytes(s, b); PizzaFile.Read(s); }, e => e is InvalidDataException),
        new("catalog", "Menu.LoadCatalogDirectory on a folder with one catalog file", CatalogSeeds, LoadCatalog, e => e is InvalidDataException),
        new("taskmaster", "TaskmasterReader.Read (Taskmaster-1 JSON)", TaskmasterSeeds, (b, s) => TaskmasterReader.Read(new MemoryStream(b), s), e => e is TaskmasterFormatException),
        new("llm-judge-answer", "the LLM judge's parse of an HTTP answer body (never throws)", JudgeSeeds, ParseJudgeAnswer, null),
        new("cli", "nanombpo argument parsing: tokens split at newlines; errors must be one line", CliSeeds, ParseCli, null),
        new("bert-config", "BertConfig.Read (Hugging Face config.json)", BertConfigSeeds, (b, s) => { File.WriteAllBytes(s, b); BertConfig.Read(s); }, e => e is BertFormatException),
        new("onnx", "OnnxModel.Parse (protobuf) then OnnxBertReader key recovery", OnnxSeeds, ParseOnnx, e => e is BertFormatException),
        new("net-resources", "ManifestResources.List/Read on a .NET assembly (PEReader)", AssemblySeeds, ReadResources, e => e is BertFormatException),
        .. RunFuzzTargets.All,   // RL run folders and the utterance cache (RunFuzzTargets.cs)
    ];

    public static IEnumerable<string> Names => All.Select(t => t.Name);

    public static FuzzTarget Get(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"--target '{name}': expected one of {string.Join(", ", Names)} or all");

    // ---- safetensors and checkpoints ----

    static IReadOnlyList<byte[]> SafeTensorsSeeds()
    {
        var a = new SafeTensorsWriter();
        a.Add("w", [2, 3], new ReadOnlyMemory<float>([1, 2, 3, 4, 5, 6]));
        a.Add("d", [2], new ReadOnlyMemory<double>([1.5, -2]));
        a.Add("i", [3], new ReadOnlyMemory<int>([1, -1, 7]));
        a.Add("l", [1, 1], new ReadOnlyMemory<long>([long.MaxValue]));
        a.AddRaw("h", SafeTensorsDType.BF16, [2], new byte[] { 0x80, 0x3F, 0x00, 0x40 });
        a.AddRaw("e", SafeTensorsDType.U8, [0], Array.Empty<byte>());
        a.Metadata["format"] = "pt";
        var b = new SafeTensorsWriter();
        b.Add("scalar", [], new ReadOnlyMemory<float>([3]));
        return [a.ToArray(), b.ToArray(), Raw("{\"x\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 8), Raw("{}", 0)];
    }

    static byte[] Raw(string header, int buffer)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + buffer];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)h.Length);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    static void ReadAll(SafeTensorsFile f)
    {
        foreach (var e in f.Entries)
        {
            e.ReadBytes();
            e.ReadFloat32(allowNarrowing: true);
        }
        _ = f.Metadata.Count;
    }

    static void OpenSafeTensors(byte[] bytes, string scratch)
    {
        File.WriteAllBytes(scratch, bytes);
        using var f = SafeTensorsFile.Open(scratch);
        ReadAll(f);
    }

    internal static ParameterStore CheckpointStore()
    {
        var store = new ParameterStore();
        store.Create("layer.weight", 3, 4).F32.Fill(0.5f);
        store.Create("layer.bias", 4).F32.Fill(-1);
        return store;
    }

    static IReadOnlyList<byte[]> CheckpointSeeds()
    {
        var w = new SafeTensorsWriter();
        foreach (var p in CheckpointStore().Parameters) Checkpoint.AddTensor(w, p.Name!, p);
        w.Metadata["epoch"] = "3";
        var w64 = new SafeTensorsWriter();
        w64.Add("layer.weight", [3, 4], new ReadOnlyMemory<double>(new double[12]));
        w64.Add("layer.bias", [4], new ReadOnlyMemory<double>(new double[4]));
        return [w.ToArray(), w64.ToArray()];
    }

    static void LoadCheckpoint(byte[] bytes, string scratch)
    {
        File.WriteAllBytes(scratch, bytes);
        Checkpoint.Load(CheckpointStore(), scratch);
    }

    // ---- dialog files ----

    static IReadOnlyList<byte[]> PizzaSeeds() =>
    [
        Encoding.UTF8.GetBytes("{\"test.SRC\": \"three large pizzas with mushrooms\", \"test.EXR\": \"(ORDER (PIZZAORDER (NUMBER 3 ) (SIZE LARGE ) (TOPPING MUSHROOMS ) ) )\"}\n"
            + "{\"dev.SRC\": \"a coke and a pie without onions\", \"dev.EXR\": \"(ORDER (DRINKORDER (NUMBER 1 ) (DRINKTYPE COKE ) ) (PIZZAORDER (NUMBER 1 ) (NOT (TOPPING ONIONS ) ) ) )\"}\n"),
        Encoding.UTF8.GetBytes("{\"SRC\": \"x\", \"EXR\": \"(ORDER (PIZZAORDER (COMPLEX_TOPPING (QUANTITY EXTRA ) (TOPPING CHEESE ) ) (STYLE THIN_CRUST ) (VOLUME 2 liter ) ) )\"}\n"),
    ];

    static IReadOnlyList<byte[]> CatalogSeeds()
    {
        var asm = typeof(Menu).Assembly;
        var seeds = new List<byte[]>();
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.Contains(".Dialog.Catalogs.") && n.EndsWith(".txt")).Order())
        {
            using var s = asm.GetManifestResourceStream(name)!;
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            seeds.Add(ms.ToArray());
        }
        return seeds;
    }

    static void LoadCatalog(byte[] bytes, string scratch)
    {
        string dir = scratch + ".catalogs";
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "fuzz.txt"), bytes);
        Menu.LoadCatalogDirectory(dir);
    }

    static IReadOnlyList<byte[]> TaskmasterSeeds()
    {
        var dialogs = new CorpusGenerator().Generate(2, 7).ToList();
        var all = new MemoryStream();
        TaskmasterWriter.Write(all, dialogs, "seed");
        var one = new MemoryStream();
        TaskmasterWriter.Write(one, dialogs.Take(1), "seed");
        byte[] single = one.ToArray(); // one dialog object, as the shared sample.json holds
        int open = Array.IndexOf(single, (byte)'{'), close = Array.LastIndexOf(single, (byte)'}');
        return [all.ToArray(), single[open..(close + 1)]];
    }

    // ---- LLM judge answers and CLI arguments (no exception allowed at all) ----

    static IReadOnlyList<byte[]> JudgeSeeds() =>
    [
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { id = "x", choices = new[] { new { index = 0, message = new { role = "assistant", content = "4" }, finish_reason = "stop" } } })),
        Encoding.UTF8.GetBytes("{\"choices\":[{\"message\":{\"content\":\" 5\\n\"}}],\"usage\":{\"total_tokens\":12}}"),
        Encoding.UTF8.GetBytes("{\"error\":{\"message\":\"model not found\"}}"),
    ];

    static void ParseJudgeAnswer(byte[] bytes, string _)
    {
        string body = Encoding.UTF8.GetString(bytes);
        int? score = LlmJudgeReward.ParseScore(LlmJudgeReward.ExtractContent(body));
        if (score is < 1 or > 5) throw new InvalidOperationException($"score {score} outside 1-5");
    }

    static IReadOnlyList<byte[]> CliSeeds() =>
    [
        Encoding.UTF8.GetBytes("train\n--dialogs\n30\n--epochs\n2\n--lr\n0.001\n--device\ncpu"),
        Encoding.UTF8.GetBytes("eval\n--policy\nrule\n--episodes\n10\n--seed\n3\n--epsilon\n0.1\n--json"),
        Encoding.UTF8.GetBytes("bench\ngemm\n--m\n17\n--k\n9\n--n\n33\n--threads\n1\n--pack\n-1"),
        Encoding.UTF8.GetBytes("corpus\n--dialogs\n5\n--out\nx.json\n--max-seq-len\n4"),
    ];

    static void ParseCli(byte[] bytes, string _)
    {
        string[] args = Encoding.UTF8.GetString(bytes).Split('\n');
        var parse = CliHost.Parse(CliHost.CreateRoot(), args);
        if (parse.Errors.Count == 0) return; // valid command lines are not run (they would train, benchmark, ...)
        var err = new StringWriter();
        int code = CliHost.ReportParseErrors(parse, err);
        string text = err.ToString().TrimEnd('\n', '\r');
        if (code != CliHost.BadInput || text.Contains('\n') || !text.StartsWith("error: ", StringComparison.Ordinal))
            throw new InvalidOperationException($"parse error not reported as one line with exit code 2: {text}");
    }

    // ---- BERT checkpoints: config, ONNX exports, .NET assemblies embedding them ----

    static IReadOnlyList<byte[]> BertConfigSeeds() =>
    [
        Encoding.UTF8.GetBytes(BertConfig.MiniLmL6.ToJson()),
        Encoding.UTF8.GetBytes("{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 16, \"vocab_size\": 40, \"layer_norm_eps\": 1e-12}"),
    ];

    /// <summary>The tiny BERT ONNX export of the test fixtures, found above the program's folder (tests and
    /// runs from a checkout); elsewhere a graph-less model (ir_version 7, empty graph), which the reader refuses.</summary>
    static IReadOnlyList<byte[]> OnnxSeeds()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string f = Path.Combine(d.FullName, "tests", "fixtures", "bert_tiny", "model.onnx");
            if (File.Exists(f)) return [File.ReadAllBytes(f)];
        }
        return [new byte[] { 0x08, 0x07, 0x3A, 0x00 }];
    }

    static void ParseOnnx(byte[] bytes, string scratch)
    {
        var m = OnnxModel.Parse(bytes, scratch);
        OnnxBertReader.Read(m, string.Join("\n", Enumerable.Range(0, 40).Select(i => $"t{i}")));
    }

    static IReadOnlyList<byte[]> AssemblySeeds() => [File.ReadAllBytes(typeof(Menu).Assembly.Location)];

    static void ReadResources(byte[] bytes, string scratch)
    {
        File.WriteAllBytes(scratch, bytes);
        foreach (var name in ManifestResources.List(scratch).Take(3)) ManifestResources.Read(scratch, name);
    }
}
