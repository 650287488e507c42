// Writes dialogs as a Taskmaster-1 JSON array (2-space indent, "\n" newlines, readable UTF-8 text), checked with
// the reader's rules first, so we never write a file TaskmasterReader rejects. Files are written to a temp file
// beside the target and renamed over it, so a crash never leaves a half-written corpus.
// Field order: conversation_id, instruction_id, goal?, outcome?, utterances[index, speaker, text, reward?, segments?].
// Test: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.Taskmaster"
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NanoMbpo.Dialog.Corpus;

public static class TaskmasterWriter
{
    static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        IndentSize = 2,
        NewLine = "\n",
        // Files, not HTML: keep apostrophes and non-ASCII letters as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes <paramref name="dialogs"/> to <paramref name="path"/> atomically (temp file + rename).</summary>
    public static void WriteFile(string path, IEnumerable<TaskmasterDialog> dialogs)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(dialogs);
        NanoMbpo.IO.AtomicFile.Write(path, stream => Write(stream, dialogs, path));
    }

    /// <summary>Writes the JSON array to a stream; <paramref name="source"/> names it in error messages.</summary>
    public static void Write(Stream stream, IEnumerable<TaskmasterDialog> dialogs, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(dialogs);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var w = new Utf8JsonWriter(stream, WriterOptions))
        {
            w.WriteStartArray();
            int index = 0;
            foreach (TaskmasterDialog d in dialogs)
            {
                if (d is null) throw new TaskmasterFormatException(source, index, null, null, "expected a dialog, got null");
                TaskmasterValidation.Check(d, source, index);
                if (seen.TryGetValue(d.ConversationId, out int first))
                    throw new TaskmasterFormatException(source, index, d.ConversationId, "conversation_id",
                        $"duplicate id, already used by dialog {first}");
                seen.Add(d.ConversationId, index);
                WriteDialog(w, d);
                w.Flush(); // the writer buffers until flushed: keep memory flat for large corpora
                index++;
            }
            w.WriteEndArray();
        }
        stream.WriteByte((byte)'\n');
    }

    static void WriteDialog(Utf8JsonWriter w, TaskmasterDialog d)
    {
        w.WriteStartObject();
        w.WriteString("conversation_id", d.ConversationId);
        w.WriteString("instruction_id", d.InstructionId);
        if (d.Goal is not null) w.WriteString("goal", d.Goal);
        if (d.Outcome is { } o)
        {
            w.WriteStartObject("outcome");
            w.WriteBoolean("success", o.Success);
            w.WriteNumber("turns", o.Turns);
            w.WriteBoolean("hangup", o.Hangup);
            if (o.SlotF1 is double f) w.WriteNumber("slot_f1", f);
            w.WriteEndObject();
        }
        w.WriteStartArray("utterances");
        foreach (TaskmasterUtterance u in d.Utterances)
        {
            w.WriteStartObject();
            w.WriteNumber("index", u.Index);
            w.WriteString("speaker", TaskmasterValidation.SpeakerName(u.Speaker));
            w.WriteString("text", u.Text);
            if (u.Reward is double r) w.WriteNumber("reward", r);
            if (u.Segments.Count > 0)
            {
                w.WriteStartArray("segments");
                foreach (TaskmasterSegment s in u.Segments)
                {
                    w.WriteStartObject();
                    w.WriteNumber("start_index", s.StartIndex);
                    w.WriteNumber("end_index", s.EndIndex);
                    w.WriteString("text", s.Text);
                    w.WriteStartArray("annotations");
                    foreach (TaskmasterAnnotation a in s.Annotations)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", a.Name);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
