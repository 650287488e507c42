// Taskmaster-1 reader and writer: the real shared sample (skipped when absent), round trips of corpus dialogs with
// our extra fields, atomic writes, and malformed files whose errors must name the file, dialog and field.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.Taskmaster"
using System.Text;
using System.Text.Json;
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Corpus;
using Xunit;

namespace NanoMbpo.Tests.DialogIO;

public sealed class TaskmasterIOTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("nanombpo-taskmaster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static TaskmasterDialog CorpusDialog(string id) => new(id, "kinpizza-ordering-1",
    [
        new TaskmasterUtterance(0, Speaker.Seller, "I'm KinPizza chatbot, what can I help you with"),
        new TaskmasterUtterance(1, Speaker.Customer, "Two large pizzas with EXTRA cheese, no onions — merci!")
        {
            Segments = SegmentAnnotator.Annotate("Two large pizzas with EXTRA cheese, no onions — merci!",
                [("two", "pizza_ordering.num.pizza"), ("large", "pizza_ordering.size.pizza"),
                 ("extra cheese", "pizza_ordering.type.topping"), ("onions", "pizza_ordering.type.topping.not")]),
        },
        new TaskmasterUtterance(2, Speaker.Seller, "Pickup or delivery?") { Reward = -1 },
        new TaskmasterUtterance(3, Speaker.Customer, "Pickup, name's O'Brien."),
        new TaskmasterUtterance(4, Speaker.Seller, "That's $47.98, placing your order now.") { Reward = 19.25 },
    ])
    {
        Goal = "2 large pizzas (extra cheese, no onions); pickup; name O'Brien",
        Outcome = new TaskmasterOutcome(true, 2, false) { SlotF1 = 1.0 },
    };

    static string ToJson(IEnumerable<TaskmasterDialog> dialogs)
    {
        using var ms = new MemoryStream();
        TaskmasterWriter.Write(ms, dialogs, "memory");
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    [DialogIOSharedDataFact("taskmaster/sample.json")]
    public void ReadsTheRealSampleAndWritesItBackUnchanged()
    {
        string path = DialogIOSharedData.Find("taskmaster/sample.json")!;
        TaskmasterDialog d = Assert.Single(TaskmasterReader.ReadFile(path)); // the sample is one dialog object
        Assert.Equal("dlg-00055f4e-4a46-48bf-8d99-4e477663eb23", d.ConversationId);
        Assert.Equal("restaurant-table-2", d.InstructionId);
        Assert.Equal(20, d.Utterances.Count);
        Assert.Equal(Speaker.Customer, d.Utterances[0].Speaker);
        Assert.Equal(Speaker.Seller, d.Utterances[19].Speaker);
        Assert.Null(d.Goal);
        Assert.Null(d.Outcome);
        Assert.All(d.Utterances, u => Assert.Null(u.Reward));
        TaskmasterSegment kitchen = Assert.Single(d.Utterances[3].Segments);
        Assert.Equal((20, 35, "Thursday Kitche"), (kitchen.StartIndex, kitchen.EndIndex, kitchen.Text));
        Assert.Equal("restaurant_reservation.name.restaurant.reject", Assert.Single(kitchen.Annotations).Name);
        Assert.Equal(14, d.Utterances.Sum(u => u.Segments.Count));

        // Written back, it is the same JSON (as an array of one), with nothing added or lost.
        string outPath = Path.Combine(_dir, "sample-copy.json");
        TaskmasterWriter.WriteFile(outPath, [d]);
        using JsonDocument original = JsonDocument.Parse(File.ReadAllText(path));
        using JsonDocument copy = JsonDocument.Parse(File.ReadAllText(outPath));
        Assert.True(JsonElement.DeepEquals(original.RootElement, copy.RootElement[0]), "sample changed in the round trip");
    }

    [Fact]
    public void CorpusDialogsRoundTripWithTheirExtraFields()
    {
        string path = Path.Combine(_dir, "sub", "corpus.json"); // the writer creates the folder
        TaskmasterDialog[] dialogs = [CorpusDialog("kp-000001"), CorpusDialog("kp-000002") with { Goal = null, Outcome = null }];
        TaskmasterWriter.WriteFile(path, dialogs);
        IReadOnlyList<TaskmasterDialog> back = TaskmasterReader.ReadFile(path);

        Assert.Equal(2, back.Count);
        TaskmasterDialog a = back[0];
        Assert.Equal("kp-000001", a.ConversationId);
        Assert.Equal(dialogs[0].Goal, a.Goal);
        Assert.Equal(dialogs[0].Outcome, a.Outcome);
        Assert.Equal([null, null, -1.0, null, 19.25], a.Utterances.Select(u => u.Reward));
        Assert.Equal(dialogs[0].Utterances.Select(u => (u.Index, u.Speaker, u.Text)), a.Utterances.Select(u => (u.Index, u.Speaker, u.Text)));
        var segs = a.Utterances[1].Segments;
        Assert.Equal(["Two", "large", "EXTRA cheese", "onions"], segs.Select(s => s.Text));
        Assert.Equal("pizza_ordering.type.topping.not", segs[3].Annotations[0].Name);
        Assert.Null(back[1].Goal);
        Assert.Null(back[1].Outcome);

        // Writing what was read gives the same bytes: the format is stable and deterministic.
        string text = File.ReadAllText(path);
        Assert.Equal(text, ToJson(back));
        Assert.Contains("name's O'Brien.", text); // readable, not \u0027-escaped
        Assert.Contains("— merci!", text);
        Assert.DoesNotContain("\r", text);
    }

    [Fact]
    public void WriteReplacesAtomicallyAndAFailedWriteLeavesTheOldFile()
    {
        string path = Path.Combine(_dir, "corpus.json");
        TaskmasterWriter.WriteFile(path, [CorpusDialog("first")]);
        TaskmasterWriter.WriteFile(path, [CorpusDialog("second")]);
        Assert.Equal("second", Assert.Single(TaskmasterReader.ReadFile(path)).ConversationId);

        TaskmasterDialog bad = CorpusDialog("bad") with
        {
            Utterances = [new TaskmasterUtterance(0, Speaker.Customer, "hi") { Segments = [new TaskmasterSegment(0, 5, "hi", [])] }],
        };
        var ex = Assert.Throws<TaskmasterFormatException>(() => TaskmasterWriter.WriteFile(path, [CorpusDialog("ok"), bad]));
        Assert.Contains("dialog 1 (conversation_id 'bad')", ex.Message);
        Assert.Contains("utterances[0].segments[0].end_index", ex.Message);
        Assert.Equal("second", Assert.Single(TaskmasterReader.ReadFile(path)).ConversationId);
        Assert.Equal(["corpus.json"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void WriterRejectsDuplicateIds()
    {
        var ex = Assert.Throws<TaskmasterFormatException>(() => ToJson([CorpusDialog("x"), CorpusDialog("x")]));
        Assert.Contains("duplicate id, already used by dialog 0", ex.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = Path.Combine(_dir, "nope.json");
        var ex = Assert.Throws<FileNotFoundException>(() => TaskmasterReader.ReadFile(path));
        Assert.Contains(path, ex.Message);
    }

    const string U0 = """{"index": 0, "speaker": "USER", "text": "one large pizza"}""";

    [Theory]
    [InlineData("[{\"conversation_id\": ", "not valid JSON at line 1")]
    [InlineData("42", "expected a JSON array of dialogs or one dialog object at the top level, got a number")]
    [InlineData("[17]", "dialog 0: expected a dialog object, got a number")]
    [InlineData("""[{"instruction_id": "i", "utterances": []}]""", "dialog 0, field 'conversation_id': missing; expected a string")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i"}]""", "dialog 0 (conversation_id 'a'), field 'utterances': missing; expected an array")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": 5, "utterances": []}]""", "field 'instruction_id': expected a string, got a number")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "utterances": [{"index": 0, "speaker": "BOT", "text": "x"}]}]""",
        "field 'utterances[0].speaker': expected \"USER\" or \"ASSISTANT\", got \"BOT\"")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "utterances": [{"index": 1.5, "speaker": "USER", "text": "x"}]}]""",
        "field 'utterances[0].index': expected a 32-bit integer, got 1.5")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "utterances": [{"index": 0, "speaker": "USER"}]}]""",
        "field 'utterances[0].text': missing; expected a string")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "utterances": [{"index": 3, "speaker": "USER", "text": "x"}, {"index": 3, "speaker": "ASSISTANT", "text": "y"}]}]""",
        "field 'utterances[1].index': expected indices to increase (previous 3), got 3")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "utterances": [{"index": 0, "speaker": "USER", "text": "one large pizza", "segments": [{"start_index": 4, "end_index": 99, "text": "large", "annotations": []}]}]}]""",
        "field 'utterances[0].segments[0].end_index': expected start_index (4) < end_index <= 15 (the text length), got 99")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "utterances": [{"index": 0, "speaker": "USER", "text": "one large pizza", "segments": [{"start_index": 4, "end_index": 9, "text": "small", "annotations": []}]}]}]""",
        "field 'utterances[0].segments[0].text': expected the text at [4, 9) of the utterance, \"large\", got \"small\"")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "utterances": [{"index": 0, "speaker": "USER", "text": "one large pizza", "segments": [{"start_index": 4, "end_index": 9, "text": "large"}]}]}]""",
        "field 'utterances[0].segments[0].annotations': missing; expected an array")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "utterances": [{"index": 0, "speaker": "ASSISTANT", "text": "hi", "reward": "high"}]}]""",
        "field 'utterances[0].reward': expected a number, got a string")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "outcome": {"success": true, "turns": "7", "hangup": false}, "utterances": []}]""",
        "field 'outcome.turns': expected a number, got a string")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "outcome": {"success": true, "turns": 7}, "utterances": []}]""",
        "field 'outcome.hangup': missing; expected true or false")]
    [InlineData("""[{"conversation_id": "a", "instruction_id": "i", "utterances": []}, {"conversation_id": "a", "instruction_id": "i", "utterances": []}]""",
        "dialog 1 (conversation_id 'a'), field 'conversation_id': duplicate id, already used by dialog 0")]
    public void MalformedFilesGiveErrorsNamingFileDialogAndField(string json, string expected)
    {
        string path = Path.Combine(_dir, "broken.json");
        File.WriteAllText(path, json);
        var ex = Assert.Throws<TaskmasterFormatException>(() => TaskmasterReader.ReadFile(path));
        Assert.StartsWith(path + ":", ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Equal(path, ex.FilePath);
    }

    [Fact]
    public void ErrorInALaterDialogNamesItsPositionAndId()
    {
        string json = $$"""
            [{"conversation_id": "ok", "instruction_id": "i", "utterances": [{{U0}}]},
             {"conversation_id": "dlg-7", "instruction_id": "i", "utterances": [{{U0}}, {"index": 1, "speaker": "user", "text": "x"}]}]
            """;
        var ex = Assert.Throws<TaskmasterFormatException>(() => TaskmasterReader.Parse(json, "corpus.json"));
        Assert.Equal(1, ex.DialogIndex);
        Assert.Equal("dlg-7", ex.ConversationId);
        Assert.Equal("utterances[1].speaker", ex.Field);
        Assert.StartsWith("corpus.json: dialog 1 (conversation_id 'dlg-7')", ex.Message);
    }

    [Fact]
    public void OptionalFieldsMayBeAbsentOrNullAndUnknownFieldsAreIgnored()
    {
        string json = $$"""
            {"conversation_id": "a", "instruction_id": "pizza-ordering-1", "goal": null, "scenario": {"x": 1},
             "utterances": [{{U0}}, {"index": 5, "speaker": "ASSISTANT", "text": "", "segments": null, "extra": true}]}
            """;
        TaskmasterDialog d = Assert.Single(TaskmasterReader.Parse(json, "inline"));
        Assert.Null(d.Goal);
        Assert.Empty(d.Utterances[1].Segments);
        Assert.Equal(5, d.Utterances[1].Index);
        Assert.Equal("", d.Utterances[1].Text);
        Assert.Empty(TaskmasterReader.Parse("[]", "empty"));
    }
}
