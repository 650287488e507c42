// Reader for PIZZA-format files (JSON Lines; keys carry the split as a prefix: dev.SRC/dev.EXR, train.SRC, ...)
// and a parser for the EXR s-expressions into Order. Errors name file, line and what was expected.
// Tested by tests/NanoMbpo.Tests/Dialog/FileFormatTests.cs.
using System.Text.Json;

namespace NanoMbpo.Dialog;

/// <summary>One PIZZA record: the customer's utterance and its parsed order.</summary>
public sealed record PizzaRecord(int Line, string Src, string Exr, Order Order);

public static class PizzaFile
{
    /// <summary>Reads every non-empty line of a PIZZA JSON Lines file.</summary>
    public static List<PizzaRecord> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"PIZZA file '{path}' does not exist", path);
        var list = new List<PizzaRecord>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            list.Add(ParseLine(line, path, lineNo));
        }
        if (list.Count == 0) throw new InvalidDataException($"{path}: no records (expected JSON Lines with '<split>.SRC' and '<split>.EXR' keys)");
        return list;
    }

    public static PizzaRecord ParseLine(string line, string file, int lineNo)
    {
        string where = $"{file}:{lineNo}";
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: expected one JSON object per line ({e.Message})");
        }
        using (doc)
        try
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{where}: expected a JSON object, found {doc.RootElement.ValueKind}");
            string? src = null, exr = null;
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name.EndsWith(".SRC", StringComparison.Ordinal) || p.Name == "SRC") src = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                else if (p.Name.EndsWith(".EXR", StringComparison.Ordinal) || p.Name == "EXR") exr = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
            }
            if (src == null) throw new InvalidDataException($"{where}: expected a string field '<split>.SRC' (e.g. 'dev.SRC')");
            if (exr == null) throw new InvalidDataException($"{where}: expected a string field '<split>.EXR' (e.g. 'dev.EXR')");
            Order order;
            try { order = Exr.Parse(exr); }
            catch (FormatException e) { throw new InvalidDataException($"{where}: bad EXR: {e.Message}"); }
            return new PizzaRecord(lineNo, src, exr, order);
        }
        catch (InvalidOperationException e) when (e.Source?.StartsWith("System.Text.Json", StringComparison.Ordinal) == true)
        {
            throw new InvalidDataException($"{where}: a string is not valid UTF-8 / Unicode ({e.Message})");
        }
    }
}

/// <summary>Parser for PIZZA EXR s-expressions such as (ORDER (PIZZAORDER (NUMBER 2 ) (SIZE LARGE ) ) ).</summary>
public static class Exr
{
    sealed record Node(string Label, List<object> Kids);

    public static Order Parse(string text)
    {
        var toks = text.Replace("(", " ( ").Replace(")", " ) ").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int pos = 0;
        var root = ReadNode(toks, ref pos);
        if (pos != toks.Length) throw new FormatException($"unexpected text after the closing parenthesis at token {pos}");
        if (root.Label != "ORDER") throw new FormatException($"expected (ORDER ...) at the top, found ({root.Label} ...)");
        var order = new Order();
        foreach (var k in root.Kids)
        {
            if (k is not Node n) continue; // stray words (TOP-style) carry no meaning here
            if (n.Label is not ("PIZZAORDER" or "DRINKORDER"))
                throw new FormatException($"expected PIZZAORDER or DRINKORDER inside ORDER, found {n.Label}");
            var s = new SubOrder { IsDrink = n.Label == "DRINKORDER" };
            foreach (var a in n.Kids.OfType<Node>()) AddAttribute(s, a, negated: false);
            order.Items.Add(s);
        }
        return order;
    }

    static void AddAttribute(SubOrder s, Node a, bool negated)
    {
        string Leaf() => string.Join(" ", a.Kids.OfType<string>());
        switch (a.Label)
        {
            case "NOT":
                var inner = a.Kids.OfType<Node>().ToList();
                if (inner.Count != 1) throw new FormatException("expected exactly one attribute inside NOT");
                AddAttribute(s, inner[0], negated: true);
                break;
            case "NUMBER":
                if (!int.TryParse(Leaf(), out int num)) throw new FormatException($"expected an integer in NUMBER, found '{Leaf()}'");
                s.Number = num;
                break;
            case "SIZE": s.Size = Leaf(); break;
            case "STYLE": s.Styles.Add(new StyleSpec(Leaf(), negated)); break;
            case "TOPPING": s.Toppings.Add(new ToppingSpec(Leaf(), null, negated)); break;
            case "COMPLEX_TOPPING":
                string? q = null, t = null;
                foreach (var c in a.Kids.OfType<Node>())
                {
                    if (c.Label == "QUANTITY") q = string.Join(" ", c.Kids.OfType<string>());
                    else if (c.Label == "TOPPING") t = string.Join(" ", c.Kids.OfType<string>());
                }
                if (t == null) throw new FormatException("expected a TOPPING inside COMPLEX_TOPPING");
                s.Toppings.Add(new ToppingSpec(t, q, negated));
                break;
            case "DRINKTYPE": s.DrinkType = Leaf(); break;
            case "CONTAINERTYPE": s.Container = Leaf(); break;
            case "VOLUME": s.Volume = string.Join(",", a.Kids.OfType<string>()); break;
            default: throw new FormatException($"unknown EXR constructor '{a.Label}'");
        }
    }

    static Node ReadNode(string[] toks, ref int pos)
    {
        if (pos >= toks.Length || toks[pos] != "(") throw new FormatException($"expected '(' at token {pos}");
        pos++;
        if (pos >= toks.Length || toks[pos] is "(" or ")") throw new FormatException($"expected a constructor name at token {pos}");
        var node = new Node(toks[pos++], new List<object>());
        while (true)
        {
            if (pos >= toks.Length) throw new FormatException($"missing ')' to close ({node.Label} ...)");
            if (toks[pos] == ")") { pos++; return node; }
            if (toks[pos] == "(") node.Kids.Add(ReadNode(toks, ref pos));
            else node.Kids.Add(toks[pos++]);
        }
    }
}
