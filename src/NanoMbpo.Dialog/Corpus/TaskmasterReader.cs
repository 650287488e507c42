// Reads Taskmaster-1 JSON: a file holding either an array of dialogs (the real woz-dialogs.json and
// self-dialogs.json) or one dialog object (the shared sample.json). Unknown fields are ignored; our extra fields
// (goal, reward, outcome) are optional. Every problem is a TaskmasterFormatException naming the file, the dialog
// (position and conversation_id) and the JSON path of the field, e.g. "utterances[3].segments[0].end_index".
// Test: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.Taskmaster"
using System.Text.Json;

namespace NanoMbpo.Dialog.Corpus;

public static class TaskmasterReader
{
    static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>All dialogs of a Taskmaster-1 file, validated (see <see cref="TaskmasterValidation.Check"/>).</summary>
    public static IReadOnlyList<TaskmasterDialog> ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Taskmaster file not found: '{path}'.", path);
        using FileStream stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Dialogs from JSON text; <paramref name="source"/> names it in error messages.</summary>
    public static IReadOnlyList<TaskmasterDialog> Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        return Read(stream, source);
    }

    /// <summary>Dialogs from a UTF-8 JSON stream; <paramref name="source"/> names it in error messages.</summary>
    public static IReadOnlyList<TaskmasterDialog> Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(stream, DocumentOptions);
        }
        catch (JsonException ex)
        {
            string at = ex.LineNumber is long line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "";
            throw new TaskmasterFormatException(source, null, null, null, $"not valid JSON{at}: {ex.Message}", ex);
        }
        using (doc)
        try
        {
            JsonElement root = doc.RootElement;
            var dialogs = new List<TaskmasterDialog>();
            switch (root.ValueKind)
            {
                case JsonValueKind.Object:
                    dialogs.Add(ReadDialog(root, source, 0));
                    break;
                case JsonValueKind.Array:
                    int i = 0;
                    foreach (JsonElement e in root.EnumerateArray()) dialogs.Add(ReadDialog(e, source, i++));
                    break;
                default:
                    throw new TaskmasterFormatException(source, null, null, null,
                        $"expected a JSON array of dialogs or one dialog object at the top level, got {Kind(root)}");
            }
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int d = 0; d < dialogs.Count; d++)
            {
                if (seen.TryGetValue(dialogs[d].ConversationId, out int first))
                    throw new TaskmasterFormatException(source, d, dialogs[d].ConversationId, "conversation_id",
                        $"duplicate id, already used by dialog {first}");
                seen.Add(dialogs[d].ConversationId, d);
            }
            return dialogs;
        }
        catch (InvalidOperationException ex) when (ex.Source?.StartsWith("System.Text.Json", StringComparison.Ordinal) == true)
        {
            // A string that is not valid UTF-8, or an escaped lone surrogate ("\ud800"), parses but cannot be read.
            throw new TaskmasterFormatException(source, null, null, null, $"a string is not valid UTF-8 / Unicode: {ex.Message}", ex);
        }
    }

    static TaskmasterDialog ReadDialog(JsonElement e, string source, int index)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new TaskmasterFormatException(source, index, null, null, $"expected a dialog object, got {Kind(e)}");
        // The id first, so every later error can name it.
        var id = new Reader(source, index, null);
        string conversationId = id.String(e, "conversation_id", "conversation_id")!;
        var r = new Reader(source, index, conversationId);
        string instructionId = r.String(e, "instruction_id", "instruction_id")!;
        string? goal = r.String(e, "goal", "goal", required: false);
        TaskmasterOutcome? outcome = null;
        if (r.Optional(e, "outcome", "outcome", JsonValueKind.Object) is { } o)
            outcome = new TaskmasterOutcome(r.Bool(o, "success", "outcome.success"), r.Int(o, "turns", "outcome.turns"),
                r.Bool(o, "hangup", "outcome.hangup")) { SlotF1 = r.Double(o, "slot_f1", "outcome.slot_f1", required: false) };

        JsonElement utterancesJson = r.Required(e, "utterances", "utterances", JsonValueKind.Array);
        var utterances = new List<TaskmasterUtterance>(utterancesJson.GetArrayLength());
        int u = 0;
        foreach (JsonElement ue in utterancesJson.EnumerateArray())
            utterances.Add(ReadUtterance(ue, r, $"utterances[{u++}]"));

        var dialog = new TaskmasterDialog(conversationId, instructionId, utterances) { Goal = goal, Outcome = outcome };
        TaskmasterValidation.Check(dialog, source, index);
        return dialog;
    }

    static TaskmasterUtterance ReadUtterance(JsonElement e, Reader r, string at)
    {
        r.Expect(e, at, JsonValueKind.Object);
        int index = r.Int(e, "index", at + ".index");
        string speakerName = r.String(e, "speaker", at + ".speaker")!;
        Speaker speaker = speakerName switch
        {
            TaskmasterValidation.User => Speaker.Customer,
            TaskmasterValidation.Assistant => Speaker.Seller,
            _ => throw r.Error(at + ".speaker", $"expected \"USER\" or \"ASSISTANT\", got \"{speakerName}\""),
        };
        string text = r.String(e, "text", at + ".text")!;
        double? reward = r.Double(e, "reward", at + ".reward", required: false);
        var segments = new List<TaskmasterSegment>();
        if (r.Optional(e, "segments", at + ".segments", JsonValueKind.Array) is { } segs)
        {
            int s = 0;
            foreach (JsonElement se in segs.EnumerateArray())
            {
                string sat = $"{at}.segments[{s++}]";
                r.Expect(se, sat, JsonValueKind.Object);
                int start = r.Int(se, "start_index", sat + ".start_index");
                int end = r.Int(se, "end_index", sat + ".end_index");
                string segText = r.String(se, "text", sat + ".text")!;
                var annotations = new List<TaskmasterAnnotation>();
                int a = 0;
                foreach (JsonElement ae in r.Required(se, "annotations", sat + ".annotations", JsonValueKind.Array).EnumerateArray())
                {
                    string aat = $"{sat}.annotations[{a++}]";
                    r.Expect(ae, aat, JsonValueKind.Object);
                    annotations.Add(new TaskmasterAnnotation(r.String(ae, "name", aat + ".name")!));
                }
                segments.Add(new TaskmasterSegment(start, end, segText, annotations));
            }
        }
        return new TaskmasterUtterance(index, speaker, text) { Segments = segments, Reward = reward };
    }

    static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };

    /// <summary>Typed field access that turns every mismatch into an error naming the field.</summary>
    readonly struct Reader(string source, int dialogIndex, string? conversationId)
    {
        public TaskmasterFormatException Error(string field, string problem) =>
            new(source, dialogIndex, conversationId, field, problem);

        public void Expect(JsonElement e, string field, JsonValueKind kind)
        {
            if (e.ValueKind != kind)
                throw Error(field, $"expected {KindName(kind)}, got {Kind(e)}");
        }

        public JsonElement Required(JsonElement obj, string name, string field, JsonValueKind kind)
        {
            if (!obj.TryGetProperty(name, out JsonElement v)) throw Error(field, $"missing; expected {KindName(kind)}");
            Expect(v, field, kind);
            return v;
        }

        /// <summary>The field, or null when it is absent or JSON null.</summary>
        public JsonElement? Optional(JsonElement obj, string name, string field, JsonValueKind kind)
        {
            if (!obj.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return null;
            Expect(v, field, kind);
            return v;
        }

        public string? String(JsonElement obj, string name, string field, bool required = true)
        {
            JsonElement? v = required ? Required(obj, name, field, JsonValueKind.String) : Optional(obj, name, field, JsonValueKind.String);
            return v?.GetString();
        }

        public int Int(JsonElement obj, string name, string field)
        {
            JsonElement v = Required(obj, name, field, JsonValueKind.Number);
            if (!v.TryGetInt32(out int i)) throw Error(field, $"expected a 32-bit integer, got {v.GetRawText()}");
            return i;
        }

        public double? Double(JsonElement obj, string name, string field, bool required = true)
        {
            JsonElement? v = required ? Required(obj, name, field, JsonValueKind.Number) : Optional(obj, name, field, JsonValueKind.Number);
            if (v is not { } n) return null;
            if (!n.TryGetDouble(out double d) || !double.IsFinite(d)) throw Error(field, $"expected a finite number, got {n.GetRawText()}");
            return d;
        }

        public bool Bool(JsonElement obj, string name, string field)
        {
            if (!obj.TryGetProperty(name, out JsonElement v)) throw Error(field, "missing; expected true or false");
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(field, $"expected true or false, got {Kind(v)}"),
            };
        }

        static string KindName(JsonValueKind kind) => kind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            _ => kind.ToString(),
        };
    }
}
