// The Taskmaster-1 dialog format (Byrne et al., 2019) as records, plus the fields our KinPizza corpus adds
// (goal, per-utterance reward, outcome), and the semantic checks shared by the reader and the writer.
// JSON shape: {"conversation_id", "instruction_id", "utterances": [{"index", "speaker": "USER"|"ASSISTANT",
// "text", "segments": [{"start_index", "end_index", "text", "annotations": [{"name"}]}]}]}.
// Test: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.Taskmaster"
namespace NanoMbpo.Dialog.Corpus;

/// <summary>One dialog. <see cref="Goal"/> and <see cref="Outcome"/> are ours; real Taskmaster files lack them.</summary>
/// <param name="ConversationId">Unique id within a file (<c>conversation_id</c>).</param>
/// <param name="InstructionId">The task the crowd worker was given (<c>instruction_id</c>), e.g. <c>pizza-ordering-2</c>.</param>
/// <param name="Utterances">In spoken order; <c>index</c> values strictly increase.</param>
public sealed record TaskmasterDialog(string ConversationId, string InstructionId, IReadOnlyList<TaskmasterUtterance> Utterances)
{
    /// <summary>The customer's hidden goal as free text (<c>goal</c>), written by our corpus; null when absent.</summary>
    public string? Goal { get; init; }

    /// <summary>How the episode ended (<c>outcome</c>), written by our corpus; null when absent.</summary>
    public TaskmasterOutcome? Outcome { get; init; }
}

/// <summary>One utterance. Taskmaster's USER is our <see cref="Speaker.Customer"/>, ASSISTANT our <see cref="Speaker.Seller"/>.</summary>
public sealed record TaskmasterUtterance(int Index, Speaker Speaker, string Text)
{
    /// <summary>Annotated character spans of <see cref="Text"/> (<c>segments</c>); empty when the JSON has none.</summary>
    public IReadOnlyList<TaskmasterSegment> Segments { get; init; } = [];

    /// <summary>
    /// Our per-turn reward (<c>reward</c>), stored on the ASSISTANT utterance it was earned by: the reward the seller
    /// got for this response once the customer had replied. Null when absent (real Taskmaster data).
    /// </summary>
    public double? Reward { get; init; }
}

/// <summary>A span <c>[StartIndex, EndIndex)</c> of the utterance text (UTF-16 indices, end exclusive) and its labels.</summary>
public sealed record TaskmasterSegment(int StartIndex, int EndIndex, string Text, IReadOnlyList<TaskmasterAnnotation> Annotations);

/// <summary>A segment label such as <c>pizza_ordering.size.pizza</c>.</summary>
public sealed record TaskmasterAnnotation(string Name);

/// <summary>How a simulated episode ended (<c>outcome</c>: <c>success</c>, <c>turns</c>, <c>hangup</c>, optional <c>slot_f1</c>).</summary>
/// <param name="Success">The order was placed and matched the customer's goal.</param>
/// <param name="Turns">Seller turns taken.</param>
/// <param name="Hangup">The customer ran out of patience.</param>
public sealed record TaskmasterOutcome(bool Success, int Turns, bool Hangup)
{
    /// <summary>Order slot F1 in [0, 1] against the goal; null when not recorded.</summary>
    public double? SlotF1 { get; init; }
}

/// <summary>A malformed Taskmaster file or dialog: the message names the file, the dialog and the field.</summary>
public sealed class TaskmasterFormatException : FormatException
{
    public TaskmasterFormatException(string source, int? dialogIndex, string? conversationId, string? field, string problem,
        Exception? inner = null)
        : base(Compose(source, dialogIndex, conversationId, field, problem), inner)
    {
        FilePath = source;
        DialogIndex = dialogIndex;
        ConversationId = conversationId;
        Field = field;
    }

    /// <summary>The file (or stream name) that was read or written.</summary>
    public string FilePath { get; }
    /// <summary>0-based position of the dialog in the file, when the problem is inside one.</summary>
    public int? DialogIndex { get; }
    public string? ConversationId { get; }
    /// <summary>JSON path of the bad field inside the dialog, e.g. <c>utterances[3].segments[0].end_index</c>.</summary>
    public string? Field { get; }

    static string Compose(string source, int? dialogIndex, string? conversationId, string? field, string problem)
    {
        string where = source;
        if (dialogIndex is int d)
            where += conversationId is null ? $": dialog {d}" : $": dialog {d} (conversation_id '{conversationId}')";
        if (field is not null) where += $", field '{field}'";
        return $"{where}: {problem}";
    }
}

/// <summary>Checks that hold for every dialog we read or write.</summary>
public static class TaskmasterValidation
{
    public const string User = "USER";
    public const string Assistant = "ASSISTANT";

    public static string SpeakerName(Speaker s) => s == Speaker.Customer ? User : Assistant;

    /// <summary>Throws <see cref="TaskmasterFormatException"/> naming the first broken rule.</summary>
    public static void Check(TaskmasterDialog d, string source, int dialogIndex)
    {
        void Fail(string? field, string problem) =>
            throw new TaskmasterFormatException(source, dialogIndex, d.ConversationId, field, problem);

        if (string.IsNullOrEmpty(d.ConversationId))
            throw new TaskmasterFormatException(source, dialogIndex, null, "conversation_id", "expected a non-empty string");
        if (d.InstructionId is null) Fail("instruction_id", "expected a string, got null");
        if (d.Utterances is null) Fail("utterances", "expected an array, got null");
        if (d.Outcome is { } o)
        {
            if (o.Turns < 0) Fail("outcome.turns", $"expected >= 0, got {o.Turns}");
            if (o.SlotF1 is double f && !(f >= 0 && f <= 1)) Fail("outcome.slot_f1", $"expected a number in [0, 1], got {f}");
        }
        int previous = -1;
        for (int u = 0; u < d.Utterances!.Count; u++)
        {
            TaskmasterUtterance ut = d.Utterances[u];
            string at = $"utterances[{u}]";
            if (ut is null) Fail(at, "expected an utterance object, got null");
            if (ut!.Index <= previous)
                Fail(at + ".index", $"expected indices to increase (previous {previous}), got {ut.Index}");
            previous = ut.Index;
            if (ut.Speaker is not (Speaker.Customer or Speaker.Seller)) Fail(at + ".speaker", $"unknown speaker {ut.Speaker}");
            if (ut.Text is null) Fail(at + ".text", "expected a string, got null");
            if (ut.Reward is double r && !double.IsFinite(r)) Fail(at + ".reward", $"expected a finite number, got {r}");
            if (ut.Segments is null) Fail(at + ".segments", "expected an array, got null");
            for (int s = 0; s < ut.Segments!.Count; s++)
                CheckSegment(ut.Segments[s], ut.Text!, $"{at}.segments[{s}]", Fail);
        }
    }

    static void CheckSegment(TaskmasterSegment seg, string text, string at, Action<string?, string> fail)
    {
        if (seg is null) { fail(at, "expected a segment object, got null"); return; }
        if (seg.StartIndex < 0 || seg.StartIndex >= text.Length)
            fail(at + ".start_index", $"expected 0 <= start_index < {text.Length} (the text length), got {seg.StartIndex}");
        if (seg.EndIndex <= seg.StartIndex || seg.EndIndex > text.Length)
            fail(at + ".end_index", $"expected start_index ({seg.StartIndex}) < end_index <= {text.Length} (the text length), got {seg.EndIndex}");
        string actual = text[seg.StartIndex..seg.EndIndex];
        if (!string.Equals(actual, seg.Text, StringComparison.Ordinal))
            fail(at + ".text", $"expected the text at [{seg.StartIndex}, {seg.EndIndex}) of the utterance, \"{actual}\", got \"{seg.Text}\"");
        if (seg.Annotations is null) { fail(at + ".annotations", "expected an array, got null"); return; }
        for (int a = 0; a < seg.Annotations.Count; a++)
            if (seg.Annotations[a] is null || string.IsNullOrEmpty(seg.Annotations[a].Name))
                fail($"{at}.annotations[{a}].name", "expected a non-empty string");
    }
}
