// BertTextTokenizer: Microsoft.ML.Tokenizers' BertTokenizer over a weights directory's vocab.txt, set
// up as Hugging Face's uncased BertTokenizer: basic tokenization, lower casing, accent stripping,
// [CLS] ... [SEP], truncation to a max length (keeping [CLS] and the final [SEP]), and batches padded
// to the longest sequence with an attention mask and token type ids (all 0: one segment).
// Tests: tests/NanoMbpo.Bert.Tests/TokenizerTests.cs (the ids published in REFERENCE.md).
using Microsoft.ML.Tokenizers;

namespace NanoMbpo.Bert;

/// <summary>One padded batch: (B,T) row-major ids, mask (1 = token, 0 = padding), true lengths.</summary>
public sealed record TokenBatch(int[] InputIds, int[] AttentionMask, int[] TokenTypeIds, int[] Lengths, int Batch, int SeqLen);

public sealed class BertTextTokenizer
{
    readonly BertTokenizer tokenizer;
    readonly bool lowerCase;
    readonly string[] vocab;
    public int ClsId => tokenizer.ClassificationTokenId;
    public int SepId => tokenizer.SeparatorTokenId;
    public int PadId => tokenizer.PaddingTokenId;

    public BertTextTokenizer(string vocabPath, bool lowerCase = true)
    {
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"vocabulary '{vocabPath}' does not exist", vocabPath);
        this.lowerCase = lowerCase;
        vocab = File.ReadAllLines(vocabPath);
        tokenizer = BertTokenizer.Create(vocabPath, new BertOptions
        {
            LowerCaseBeforeTokenization = lowerCase,
            RemoveNonSpacingMarks = lowerCase,   // HF: strip_accents follows do_lower_case
            ApplyBasicTokenization = true,
            SplitOnSpecialTokens = true,
            IndividuallyTokenizeCjk = true,
        });
    }

    /// <summary>[CLS] wordpieces [SEP], wordpieces cut so the whole is at most <paramref name="maxLength"/>.</summary>
    public int[] Encode(string text, int maxLength = 512)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), $"max length must be at least 2 ([CLS] and [SEP]), got {maxLength}");
        var pieces = tokenizer.EncodeToIds(lowerCase ? StripAccents(text) : text, addSpecialTokens: false);
        int n = Math.Min(pieces.Count, maxLength - 2);
        var ids = new int[n + 2];
        ids[0] = ClsId;
        for (int i = 0; i < n; i++) ids[i + 1] = pieces[i];
        ids[n + 1] = SepId;
        return ids;
    }

    // Base letters of U+00C0..U+017F under NFD ('\0': no decomposition), e.g. 'ó' → 'o', 'ñ' → 'n'.
    const string Latin = "AAAAAA\0CEEEEIIII\0NOOOOO\0\0UUUUY\0\0aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y"
        + "AaAaAaCcCcCcCcDd\0\0EeEeEeEeEeGgGgGgGgHh\0\0IiIiIiIiI\0\0\0JjKk\0LlLlLl\0\0\0\0NnNnNn\0\0\0OoOo"
        + "Oo\0\0RrRrRrSsSsSsSsTtTt\0\0UuUuUuUuUuUuWwYyYZzZzZz\0";

    /// <summary>HF's accent stripping (NFD, drop combining marks) for Latin letters, done by table because
    /// the engine runs with invariant globalization (no ICU normalisation); other marks are left to
    /// the tokenizer's RemoveNonSpacingMarks.</summary>
    internal static string StripAccents(string text)
    {
        int i = 0;
        while (i < text.Length && text[i] < '\u00C0') i++;
        if (i == text.Length) return text;
        var sb = new System.Text.StringBuilder(text.Length);
        sb.Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (c >= '\u0300' && c <= '\u036F') continue;   // combining diacritical marks
            char b = c >= '\u00C0' && c <= '\u017F' ? Latin[c - 0xC0] : '\0';
            sb.Append(b == '\0' ? c : b);
        }
        return sb.ToString();
    }

    /// <summary>Tokens joined by spaces with "##" continuations merged, no other clean-up (as HF's
    /// decode with clean_up_tokenization_spaces=False): "[CLS] hello , my dog is cute [SEP]".</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var id in ids)
        {
            string t = id >= 0 && id < vocab.Length ? vocab[id] : "[UNK]";
            if (t.StartsWith("##", StringComparison.Ordinal) && sb.Length > 0) sb.Append(t, 2, t.Length - 2);
            else { if (sb.Length > 0) sb.Append(' '); sb.Append(t); }
        }
        return sb.ToString();
    }

    /// <summary>Pads the encoded sequences to the longest (or <paramref name="padTo"/> when larger).</summary>
    public TokenBatch Pad(IReadOnlyList<int[]> seqs, int padTo = 0)
    {
        int b = seqs.Count, t = Math.Max(padTo, seqs.Count == 0 ? 0 : seqs.Max(s => s.Length));
        var ids = new int[b * t]; var mask = new int[b * t]; var lengths = new int[b];
        if (PadId != 0) Array.Fill(ids, PadId);
        for (int i = 0; i < b; i++)
        {
            seqs[i].CopyTo(ids, i * t);
            mask.AsSpan(i * t, seqs[i].Length).Fill(1);
            lengths[i] = seqs[i].Length;
        }
        return new TokenBatch(ids, mask, new int[b * t], lengths, b, t);
    }

    public TokenBatch EncodeBatch(IReadOnlyList<string> texts, int maxLength = 512) => Pad(texts.Select(x => Encode(x, maxLength)).ToList());
}
