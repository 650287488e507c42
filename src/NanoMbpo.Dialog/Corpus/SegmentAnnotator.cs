// Builds Taskmaster `segments` for an utterance from (surface text, annotation name) pairs, so the corpus writer
// can annotate the entities the state tracker found. Each pair claims the first occurrence of its surface text
// (case-insensitive, at word boundaries) that does not overlap a range an earlier pair claimed; so
// "one large and one small" with ("one", n), ("one", n) annotates both "one"s, and "ham" never matches inside
// "champagne". Segment text is copied from the utterance (its casing), and segments come out sorted by position.
// Test: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~DialogIO.SegmentAnnotator"
namespace NanoMbpo.Dialog.Corpus;

public static class SegmentAnnotator
{
    /// <summary>Segments for <paramref name="text"/>, one per pair, in text order.</summary>
    /// <param name="entities">Surface text as it appears in the utterance (any casing; outer spaces ignored) and a label.</param>
    /// <param name="throwOnMissing">
    /// True: a surface text with no unclaimed occurrence throws <see cref="ArgumentException"/> naming it and the utterance.
    /// False: such pairs are skipped.
    /// </param>
    public static List<TaskmasterSegment> Annotate(string text, IEnumerable<(string Span, string Name)> entities,
        bool throwOnMissing = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(entities);
        var claimed = new List<(int Start, int End)>();
        var segments = new List<TaskmasterSegment>();
        foreach ((string rawSpan, string name) in entities)
        {
            string span = rawSpan?.Trim() ?? "";
            if (span.Length == 0)
                throw new ArgumentException($"SegmentAnnotator: empty surface text for annotation '{name}' in \"{text}\".", nameof(entities));
            if (string.IsNullOrEmpty(name))
                throw new ArgumentException($"SegmentAnnotator: empty annotation name for \"{span}\" in \"{text}\".", nameof(entities));
            int start = FindUnclaimed(text, span, claimed);
            if (start < 0)
            {
                if (throwOnMissing)
                    throw new ArgumentException(
                        $"SegmentAnnotator: no unclaimed occurrence of \"{span}\" (annotation '{name}') in \"{text}\".", nameof(entities));
                continue;
            }
            int end = start + span.Length;
            claimed.Add((start, end));
            segments.Add(new TaskmasterSegment(start, end, text[start..end], [new TaskmasterAnnotation(name)]));
        }
        // Stable sort: equal starts keep the caller's order.
        return segments.Select((s, i) => (s, i)).OrderBy(p => p.s.StartIndex).ThenBy(p => p.i).Select(p => p.s).ToList();
    }

    static int FindUnclaimed(string text, string span, List<(int Start, int End)> claimed)
    {
        for (int from = 0; from <= text.Length - span.Length;)
        {
            int at = text.IndexOf(span, from, StringComparison.OrdinalIgnoreCase);
            if (at < 0) return -1;
            int end = at + span.Length;
            if (AtWordBoundary(text, span, at, end) && !claimed.Any(c => at < c.End && c.Start < end)) return at;
            from = at + 1;
        }
        return -1;
    }

    // A span that starts (ends) with a letter or digit must not continue a word of the text on that side.
    static bool AtWordBoundary(string text, string span, int start, int end) =>
        (start == 0 || !char.IsLetterOrDigit(span[0]) || !char.IsLetterOrDigit(text[start - 1]))
        && (end == text.Length || !char.IsLetterOrDigit(span[^1]) || !char.IsLetterOrDigit(text[end]));
}
