// Tokenizer and longest-match phrase lexicon for the state tracker: catalog surface forms (with derived
// plural/singular variants) plus grammar cues (negation, pizza/drink nouns, fillers to ignore).
// Tested through tests/NanoMbpo.Tests/Dialog/TrackerTests.cs.
using System.Text;

namespace NanoMbpo.Dialog;

/// <summary>What a matched phrase means to the tracker.</summary>
public enum LexKind { Entity, Negation, PizzaNoun, DrinkNoun, Ignore, Unit, Word }

/// <summary>A matched span of tokens [Start, End).</summary>
public sealed record LexToken(LexKind Kind, EntityKind Entity, string Canonical, int Start, int End, string Text);

public sealed class Lexicon
{
    readonly Dictionary<string, (LexKind Kind, EntityKind Entity, string Canon)> _phrases = new();
    readonly int _maxLen;

    // Cues are grammar, not catalog data: they must work with any catalog folder loaded.
    static readonly string[] s_negation =
    {
        "no", "not", "without", "hold", "hold the", "hold on", "hold off", "hold off on", "skip", "skip the", "avoid",
        "leave off", "leave out", "leave off the", "leave out the", "minus", "except", "except for", "none", "nothing",
        "never", "don't", "dont", "do not", "doesn't", "does not", "cut", "cut the", "remove", "take off", "omit",
        "exclude", "excluding", "free of", "allergic to", "nix", "no more", "zero", "forget", "forget the",
    };
    static readonly string[] s_pizzaNouns = { "pizza", "pizzas", "pie", "pies", "pizza pie", "pizza pies", "za", "zas" };
    static readonly string[] s_drinkNouns = { "drink", "drinks", "soda", "sodas", "beverage", "beverages", "pop", "soft drink", "soft drinks" };
    // Phrases that look like entities but are not ("regular crust" is no size, "a lot" alone is no quantity).
    static readonly string[] s_ignore =
    {
        "regular crust", "normal crust", "original crust", "classic crust", "hand tossed", "usual crust", "standard crust",
        "one moment", "no problem", "no worries", "not sure", "no thanks", "no thank you", "that is all", "that's all",
        "not right", "not correct", "no that's", "no it's", "hold on a second", "hold on a sec", "a second", "a moment", "a bit",
        "that's everything", "that is everything", "everything else", "is that everything", "that'll be everything", "everything's fine",
    };
    // Quantity modifiers are grammar too; a catalog folder without them still parses "more cheese".
    static readonly Dictionary<string, string> s_quantities = new()
    {
        ["extra"] = "EXTRA", ["additional"] = "EXTRA", ["more"] = "EXTRA", ["double"] = "EXTRA", ["lots of"] = "EXTRA", ["a lot of"] = "EXTRA",
        ["light"] = "LIGHT", ["light on"] = "LIGHT", ["light on the"] = "LIGHT", ["easy on"] = "LIGHT", ["easy on the"] = "LIGHT", ["a little"] = "LIGHT",
    };
    static readonly Dictionary<string, string> s_units = new()
    {
        ["liter"] = "LITER", ["liters"] = "LITER", ["litre"] = "LITER", ["litres"] = "LITER", ["l"] = "LITER",
        ["ml"] = "ML", ["milliliter"] = "ML", ["milliliters"] = "ML", ["millilitre"] = "ML",
        ["oz"] = "FLOZ", ["ounce"] = "FLOZ", ["ounces"] = "FLOZ", ["fl oz"] = "FLOZ", ["fluid ounce"] = "FLOZ", ["fluid ounces"] = "FLOZ",
    };

    public Lexicon(Menu menu)
    {
        foreach (var g in s_ignore) Add(g, LexKind.Ignore, default, "", overwrite: true);
        // Explicit catalog forms first (they win over derived variants), then the derived variants.
        foreach (var e in menu.Entries) Add(e.Surface, LexKind.Entity, e.Kind, e.Canonical, overwrite: false);
        foreach (var e in menu.Entries)
            if (e.Kind is EntityKind.Topping or EntityKind.DrinkType or EntityKind.Style or EntityKind.ContainerType)
                foreach (var v in Variants(e.Surface)) Add(v, LexKind.Entity, e.Kind, e.Canonical, overwrite: false);
        foreach (var n in s_negation) Add(n, LexKind.Negation, default, "NOT", overwrite: false);
        foreach (var n in s_pizzaNouns) Add(n, LexKind.PizzaNoun, default, "PIZZA", overwrite: false);
        foreach (var n in s_drinkNouns) Add(n, LexKind.DrinkNoun, default, "DRINK", overwrite: false);
        foreach (var (q, c) in s_quantities) Add(q, LexKind.Entity, EntityKind.Quantity, c, overwrite: false);
        foreach (var (u, c) in s_units) Add(u, LexKind.Unit, default, c, overwrite: false);
        _maxLen = _phrases.Keys.Max(k => k.Count(ch => ch == ' ') + 1);
    }

    void Add(string surface, LexKind kind, EntityKind entity, string canon, bool overwrite)
    {
        string key = NormalizeText(surface);
        if (key.Length == 0) return;
        if (overwrite || !_phrases.ContainsKey(key)) _phrases[key] = (kind, entity, canon);
    }

    /// <summary>Plural and singular spellings of the last word of a surface form.</summary>
    static IEnumerable<string> Variants(string surface)
    {
        int sp = surface.LastIndexOf(' ');
        string head = sp < 0 ? "" : surface[..(sp + 1)], last = surface[(sp + 1)..];
        if (last.Length < 3) yield break;
        if (last.EndsWith("ies")) yield return head + last[..^3] + "y";
        else if (last.EndsWith("oes") || last.EndsWith("ches") || last.EndsWith("shes")) yield return head + last[..^2];
        else if (last.EndsWith('s') && !last.EndsWith("ss")) yield return head + last[..^1];
        else
        {
            if (last.EndsWith('y') && !"aeiou".Contains(last[^2])) yield return head + last[..^1] + "ies";
            else if (last.EndsWith('o') || last.EndsWith("ch") || last.EndsWith("sh") || last.EndsWith('x')) { yield return head + last + "es"; yield return head + last + "s"; }
            else yield return head + last + "s";
        }
    }

    /// <summary>Lower case, unify apostrophes, hyphens to spaces, punctuation split off, single spaces.</summary>
    public static string NormalizeText(string text) => Normalize(text, null);

    // map (when given) receives, for each char of the result, the index of the source char it came from, so token
    // spans can be traced back to the original text (corpus segments).
    static string Normalize(string text, List<int>? map)
    {
        var sb = new StringBuilder(text.Length + 8);
        var src = new List<int>(text.Length + 8);
        void Put(char ch, int at) { sb.Append(ch); src.Add(at); }
        void PutS(string s, int at) { foreach (char ch in s) Put(ch, at); }
        for (int i = 0; i < text.Length; i++)
        {
            char c = char.ToLowerInvariant(text[i]);
            if (c is '\u2019' or '\u2018' or '`') c = '\'';
            if (c == '.' && i > 0 && i + 1 < text.Length && char.IsDigit(text[i - 1]) && char.IsDigit(text[i + 1])) { Put('.', i); continue; }
            if (c == '&') { PutS(" and ", i); continue; }
            if (c == '/' && i > 0 && text[i - 1] is 'w' or 'W')
            {
                int w = src[^1];
                sb.Length--; src.RemoveAt(src.Count - 1);
                Put(' ', w); PutS("with", w); src[^1] = i; Put(' ', i);
                continue;
            }
            if (c == '\'' && (i == 0 || i + 1 >= text.Length || !char.IsLetter(text[i - 1]) || !char.IsLetter(text[i + 1]))) { Put(' ', i); continue; }
            if (c is '-' or '_' or '/' or '"' or '(' or ')' or '*' or '~') { Put(' ', i); continue; }
            if (c is ',' or '.' or '!' or '?' or ';' or ':') { Put(' ', i); Put(c == '.' || c == '!' || c == '?' ? '.' : ',', i); Put(' ', i); continue; }
            Put(char.IsLetterOrDigit(c) || c == '\'' || c == '.' ? c : ' ', i);
        }
        // Collapse runs of spaces and trim, keeping the map aligned.
        var outSb = new StringBuilder(sb.Length);
        for (int j = 0; j < sb.Length; j++)
        {
            if (sb[j] == ' ' && (outSb.Length == 0 || outSb[^1] == ' ')) continue;
            outSb.Append(sb[j]);
            map?.Add(src[j]);
        }
        if (outSb.Length > 0 && outSb[^1] == ' ') { outSb.Length--; if (map != null) map.RemoveAt(map.Count - 1); }
        return outSb.ToString();
    }

    public static string[] Tokenize(string text)
    {
        string n = NormalizeText(text);
        return n.Length == 0 ? Array.Empty<string>() : n.Split(' ');
    }

    /// <summary>Tokens as <see cref="Tokenize"/> gives them, with each token's char span [Start, End) in the source text.</summary>
    public static (string[] Tokens, (int Start, int End)[] Spans) TokenizeWithSpans(string text)
    {
        var map = new List<int>();
        string n = Normalize(text ?? "", map);
        if (n.Length == 0) return (Array.Empty<string>(), Array.Empty<(int, int)>());
        var toks = n.Split(' ');
        var spans = new (int, int)[toks.Length];
        int at = 0;
        for (int k = 0; k < toks.Length; k++)
        {
            spans[k] = (map[at], map[at + toks[k].Length - 1] + 1);
            at += toks[k].Length + 1;
        }
        return (toks, spans);
    }

    /// <summary>Greedy longest match left to right; unmatched tokens become Word (digits become Number).</summary>
    public List<LexToken> Match(string[] toks)
    {
        var result = new List<LexToken>();
        int i = 0;
        while (i < toks.Length)
        {
            bool found = false;
            for (int len = Math.Min(_maxLen, toks.Length - i); len >= 1 && !found; len--)
            {
                string phrase = len == 1 ? toks[i] : string.Join(' ', toks, i, len);
                if (_phrases.TryGetValue(phrase, out var hit))
                {
                    result.Add(new LexToken(hit.Kind, hit.Entity, hit.Canon, i, i + len, phrase));
                    i += len;
                    found = true;
                }
            }
            if (found) continue;
            string t = toks[i];
            if (int.TryParse(t, out int num) && num > 0 && num < 100)
                result.Add(new LexToken(LexKind.Entity, EntityKind.Number, num.ToString(), i, i + 1, t));
            else if (IsDecimal(t)) // "16.9 fl oz": a volume amount, never a count (the parser drops it without a unit)
                result.Add(new LexToken(LexKind.Entity, EntityKind.Number, t, i, i + 1, t));
            else if (TryFuzzy(t, out var fz))
                result.Add(fz with { Start = i, End = i + 1 });
            else
                result.Add(new LexToken(LexKind.Word, default, t, i, i + 1, t));
            i++;
        }
        return MergeSpokenDecimals(result);
    }

    static bool IsDecimal(string t) =>
        t.Length >= 3 && t.Count(c => c == '.') == 1 && t[0] != '.' && t[^1] != '.' && t.All(c => char.IsDigit(c) || c == '.');

    // Spoken decimals: "sixteen point nine" -> 16.9, "seven and a half" -> 7.5 (one Number token over the span).
    static List<LexToken> MergeSpokenDecimals(List<LexToken> toks)
    {
        static bool IsInt(LexToken? t, out int n)
        {
            n = 0;
            return t is { Kind: LexKind.Entity, Entity: EntityKind.Number } && int.TryParse(t.Canonical, out n);
        }
        for (int k = 0; k + 2 < toks.Count; k++)
        {
            if (!IsInt(toks[k], out int whole) || toks[k].Text is "a" or "an") continue;
            if (toks[k + 1] is { Kind: LexKind.Word, Text: "point" } && IsInt(toks[k + 2], out int frac) && frac < 10 && toks[k + 2].Text is not ("a" or "an"))
            {
                toks[k] = new LexToken(LexKind.Entity, EntityKind.Number, $"{whole}.{frac}", toks[k].Start, toks[k + 2].End, $"{toks[k].Text} point {toks[k + 2].Text}");
                toks.RemoveRange(k + 1, 2);
            }
            else if (k + 3 < toks.Count && toks[k + 1] is { Kind: LexKind.Word, Text: "and" } && toks[k + 2].Text is "a" && toks[k + 3] is { Kind: LexKind.Word, Text: "half" })
            {
                toks[k] = new LexToken(LexKind.Entity, EntityKind.Number, $"{whole}.5", toks[k].Start, toks[k + 3].End, $"{toks[k].Text} and a half");
                toks.RemoveRange(k + 1, 3);
            }
        }
        return toks;
    }

    // Typos in single-word entity names ("pepperonni", "mushrom"): one edit away from a known word of length >= 6.
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, LexToken?> _fuzzyCache = new();

    bool TryFuzzy(string t, out LexToken token)
    {
        token = null!;
        if (t.Length < 6 || !t.All(char.IsLetter)) return false;
        var cached = _fuzzyCache.GetOrAdd(t, w => FuzzyLookup(w, out var tok) ? tok : null);
        if (cached == null) return false;
        token = cached;
        return true;
    }

    bool FuzzyLookup(string t, out LexToken token)
    {
        token = null!;
        string? best = null;
        foreach (var (k, v) in _phrases)
        {
            if (v.Kind != LexKind.Entity || k.Length < 6 || k.Contains(' ') || Math.Abs(k.Length - t.Length) > 1) continue;
            if (WithinOneEdit(t, k)) { if (best != null && _phrases[best].Canon != v.Canon) return false; best = k; }
        }
        if (best == null) return false;
        var h = _phrases[best];
        token = new LexToken(h.Kind, h.Entity, h.Canon, 0, 1, t);
        return true;
    }

    static bool WithinOneEdit(string a, string b)
    {
        if (a == b) return true;
        if (a.Length == b.Length)
        {
            int diff = 0, first = -1;
            for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) { if (diff++ == 0) first = i; }
            if (diff == 1) return true;
            // adjacent transposition
            return diff == 2 && first + 1 < a.Length && a[first] == b[first + 1] && a[first + 1] == b[first];
        }
        if (a.Length > b.Length) (a, b) = (b, a);
        int x = 0, y = 0, edits = 0;
        while (x < a.Length && y < b.Length)
        {
            if (a[x] == b[y]) { x++; y++; }
            else { if (++edits > 1) return false; y++; }
        }
        return true;
    }
}
