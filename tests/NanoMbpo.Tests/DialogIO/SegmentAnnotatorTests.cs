// Segment annotator: character indices, first unclaimed occurrence, case-insensitivity, word boundaries,
// missing spans, and segments that the Taskmaster reader's validation accepts.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.SegmentAnnotator"
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Corpus;
using Xunit;

namespace NanoMbpo.Tests.DialogIO;

public class SegmentAnnotatorTests
{
    [Fact]
    public void RepeatedSurfaceTextsClaimSuccessiveOccurrencesInAnyCase()
    {
        const string text = "Two large pizzas and one LARGE coke";
        List<TaskmasterSegment> s = SegmentAnnotator.Annotate(text,
            [("large", "size"), ("coke", "drink"), ("large", "size"), ("two", "number")]);
        Assert.Equal([(0, 3, "Two"), (4, 9, "large"), (25, 30, "LARGE"), (31, 35, "coke")],
            s.Select(x => (x.StartIndex, x.EndIndex, x.Text)));
        Assert.Equal(["number", "size", "size", "drink"], s.Select(x => Assert.Single(x.Annotations).Name));
        Assert.All(s, x => Assert.Equal(text[x.StartIndex..x.EndIndex], x.Text));
    }

    [Fact]
    public void MatchesOnlyAtWordBoundaries()
    {
        const string text = "champagne, someone said ham. one ham";
        List<TaskmasterSegment> s = SegmentAnnotator.Annotate(text, [("ham", "topping"), ("one", "number"), ("ham", "topping")]);
        Assert.Equal([(24, 27), (29, 32), (33, 36)], s.Select(x => (x.StartIndex, x.EndIndex)));
        // Edges that are not letters may touch anything: "$12.99" inside "($12.99)".
        TaskmasterSegment price = Assert.Single(SegmentAnnotator.Annotate("total ($12.99)", [("$12.99", "price")]));
        Assert.Equal(7, price.StartIndex);
    }

    [Fact]
    public void ClaimedRangesAreNotReused()
    {
        // "cheese" inside the claimed "extra cheese" is taken, so the second pair finds the later one.
        List<TaskmasterSegment> s = SegmentAnnotator.Annotate("extra cheese and cheese sticks",
            [("extra cheese", "topping"), ("cheese", "topping")]);
        Assert.Equal([(0, 12), (17, 23)], s.Select(x => (x.StartIndex, x.EndIndex)));
        var ex = Assert.Throws<ArgumentException>(() =>
            SegmentAnnotator.Annotate("extra cheese please", [("extra cheese", "topping"), ("cheese", "topping")]));
        Assert.Contains("\"cheese\"", ex.Message);
        Assert.Contains("\"extra cheese please\"", ex.Message);
    }

    [Fact]
    public void MissingSpansThrowOrAreSkippedAsAsked()
    {
        var ex = Assert.Throws<ArgumentException>(() => SegmentAnnotator.Annotate("a small pizza", [("medium", "size")]));
        Assert.Contains("no unclaimed occurrence of \"medium\" (annotation 'size')", ex.Message);
        TaskmasterSegment only = Assert.Single(SegmentAnnotator.Annotate("a small pizza", [("medium", "size"), (" pizza ", "item")], throwOnMissing: false));
        Assert.Equal((8, 13, "pizza"), (only.StartIndex, only.EndIndex, only.Text));
        Assert.Throws<ArgumentException>(() => SegmentAnnotator.Annotate("a small pizza", [("  ", "size")]));
        Assert.Throws<ArgumentException>(() => SegmentAnnotator.Annotate("a small pizza", [("small", "")]));
        Assert.Empty(SegmentAnnotator.Annotate("", []));
    }

    [Fact]
    public void AnnotatedUtterancesPassTheReadersValidation()
    {
        const string text = "Three medium pies, NO onions, extra Cheese!";
        var u = new TaskmasterUtterance(0, Speaker.Customer, text)
        {
            Segments = SegmentAnnotator.Annotate(text, [("three", "n"), ("medium", "size"), ("onions", "not"), ("extra cheese", "q")]),
        };
        var d = new TaskmasterDialog("x", "i", [u]);
        TaskmasterValidation.Check(d, "memory", 0); // throws if any index or text is off
        using var ms = new MemoryStream();
        TaskmasterWriter.Write(ms, [d], "memory");
        ms.Position = 0;
        Assert.Equal(4, TaskmasterReader.Read(ms, "memory")[0].Utterances[0].Segments.Count);
    }
}
