// Tokenizer: the ids published in shared/data/bert/REFERENCE.md for the uncased vocabulary, truncation
// that keeps [CLS] and [SEP], accent stripping and lower casing, and padded batches with masks.
namespace NanoMbpo.Bert.Tests;

public class TokenizerTests
{
    static BertTextTokenizer Shared() => new(TestData.Shared("bert/all-MiniLM-L6-v2/vocab.txt")!);

    [SharedFact("bert/all-MiniLM-L6-v2/vocab.txt")]
    public void PublishedIds()
    {
        var tok = Shared();
        // REFERENCE.md: [101, 7592, 1010, 2026, 3899, 2003, 10140, 102] is "[CLS] hello , my dog is cute [SEP]".
        var text = Reference.Text;
        int at = text.IndexOf("`[101,", text.IndexOf("WordPiece check", StringComparison.Ordinal), StringComparison.Ordinal);
        var published = text[(at + 2)..text.IndexOf(']', at)].Split(',').Select(s => int.Parse(s.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(published, tok.Encode("Hello, my dog is cute"));
        Assert.Equal(published, tok.Encode("HELLO, my dóg is cute"));   // lower casing, accent stripping
        Assert.Equal("[CLS] hello , my dog is cute [SEP]", tok.Decode(published));
    }

    [SharedFact("bert/all-MiniLM-L6-v2/vocab.txt")]
    public void TruncationKeepsClsAndSep()
    {
        var tok = Shared();
        var ids = tok.Encode(string.Join(' ', Enumerable.Repeat("pizza", 50)), maxLength: 10);
        Assert.Equal(10, ids.Length);
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
        Assert.All(ids[1..^1], i => Assert.Equal(tok.Encode("pizza")[1], i));
    }

    [SharedFact("bert/all-MiniLM-L6-v2/vocab.txt")]
    public void PaddedBatchHasMasks()
    {
        var b = Shared().EncodeBatch(["a large pepperoni pizza please", "hi"]);
        Assert.Equal(2, b.Batch);
        Assert.Equal(b.Lengths[0], b.SeqLen);
        Assert.Equal(3, b.Lengths[1]);
        Assert.Equal([1, 1, 1], b.AttentionMask.AsSpan(b.SeqLen, 3).ToArray());
        Assert.All(b.AttentionMask.AsSpan(b.SeqLen + 3).ToArray(), m => Assert.Equal(0, m));
        Assert.All(b.InputIds.AsSpan(b.SeqLen + 3).ToArray(), m => Assert.Equal(0, m));
    }

    [Fact]
    public void AccentTableDecomposesLatinLetters()
    {
        Assert.Equal(192, BertTextTokenizer.StripAccents(new string(Enumerable.Range(0xC0, 192).Select(c => (char)c).ToArray())).Length);
        Assert.Equal("jalapeno creme brulee AEIOU Zz", BertTextTokenizer.StripAccents("jalapeño crème brûlée ÀÉÎÕÜ Žž"));
        Assert.Equal("cafe", BertTextTokenizer.StripAccents("cafe\u0301"));
        Assert.Equal("æ ø ß", BertTextTokenizer.StripAccents("æ ø ß"));   // no decomposition under NFD
    }
}
