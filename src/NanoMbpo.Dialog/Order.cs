// The order structure shared by goals, the state tracker and the PIZZA EXR format: an order is a list of
// pizza and drink sub-orders. Comparison is order-insensitive (sub-orders and their attributes as multisets),
// like the PIZZA authors' unordered exact-match metric. Tested by tests/NanoMbpo.Tests/Dialog/FileFormatTests.cs and TrackerTests.cs.
using System.Text;

namespace NanoMbpo.Dialog;

/// <summary>A topping with an optional quantity (EXTRA/LIGHT), possibly negated ("no onions").</summary>
public sealed record ToppingSpec(string Canonical, string? Quantity = null, bool Negated = false);

/// <summary>A style (crust or pizza kind), possibly negated ("not thin crust").</summary>
public sealed record StyleSpec(string Canonical, bool Negated = false);

/// <summary>One pizza or drink line. Null fields are unspecified; a null Number means 1 (as in PIZZA's EXR).</summary>
public sealed class SubOrder
{
    public bool IsDrink { get; set; }
    public int? Number { get; set; }
    public string? Size { get; set; }
    public List<StyleSpec> Styles { get; } = new();
    public List<ToppingSpec> Toppings { get; } = new();
    public string? DrinkType { get; set; }
    public string? Container { get; set; }
    public string? Volume { get; set; }

    public int EffectiveNumber => Number ?? 1;
    public bool HasPizzaContent => Toppings.Count > 0 || Styles.Count > 0;

    public SubOrder Clone()
    {
        var c = new SubOrder { IsDrink = IsDrink, Number = Number, Size = Size, DrinkType = DrinkType, Container = Container, Volume = Volume };
        c.Styles.AddRange(Styles);
        c.Toppings.AddRange(Toppings);
        return c;
    }

    /// <summary>Sorted attribute strings: the multiset this sub-order is compared by.</summary>
    public List<string> Attributes()
    {
        var a = new List<string> { "NUMBER=" + EffectiveNumber };
        if (Size != null) a.Add("SIZE=" + Size);
        foreach (var s in Styles) a.Add((s.Negated ? "NOT " : "") + "STYLE=" + s.Canonical);
        foreach (var t in Toppings) a.Add((t.Negated ? "NOT " : "") + "TOPPING=" + (t.Quantity != null ? t.Quantity + ":" : "") + t.Canonical);
        if (DrinkType != null) a.Add("DRINKTYPE=" + DrinkType);
        if (Container != null) a.Add("CONTAINERTYPE=" + Container);
        if (Volume != null) a.Add("VOLUME=" + Volume);
        a.Sort(StringComparer.Ordinal);
        return a;
    }

    public string Key() => (IsDrink ? "DRINK[" : "PIZZA[") + string.Join(";", Attributes()) + "]";

    /// <summary>PIZZA EXR syntax, e.g. (PIZZAORDER (NUMBER 1 ) (SIZE LARGE ) (TOPPING HAM ) ).</summary>
    public string ToExr()
    {
        var sb = new StringBuilder(IsDrink ? "(DRINKORDER " : "(PIZZAORDER ");
        if (IsDrink && DrinkType != null) sb.Append("(DRINKTYPE ").Append(DrinkType).Append(" ) ");
        if (Container != null) sb.Append("(CONTAINERTYPE ").Append(Container).Append(" ) ");
        sb.Append("(NUMBER ").Append(EffectiveNumber).Append(" ) ");
        if (Size != null) sb.Append("(SIZE ").Append(Size).Append(" ) ");
        if (Volume != null) sb.Append("(VOLUME ").Append(Volume.Replace(',', ' ')).Append(" ) ");
        foreach (var s in Styles)
            sb.Append(s.Negated ? "(NOT (STYLE " : "(STYLE ").Append(s.Canonical).Append(s.Negated ? " ) ) " : " ) ");
        foreach (var t in Toppings)
        {
            string inner = t.Quantity != null
                ? $"(COMPLEX_TOPPING (QUANTITY {t.Quantity} ) (TOPPING {t.Canonical} ) )"
                : $"(TOPPING {t.Canonical} )";
            sb.Append(t.Negated ? $"(NOT {inner} ) " : inner + " ");
        }
        return sb.Append(')').ToString();
    }
}

/// <summary>A whole order: pizza and drink lines.</summary>
public sealed class Order
{
    public List<SubOrder> Items { get; } = new();

    public IEnumerable<SubOrder> Pizzas => Items.Where(i => !i.IsDrink);
    public IEnumerable<SubOrder> Drinks => Items.Where(i => i.IsDrink);

    public Order Clone()
    {
        var o = new Order();
        foreach (var i in Items) o.Items.Add(i.Clone());
        return o;
    }

    /// <summary>Order-insensitive canonical key; equal keys mean an exact match.</summary>
    public string Key() => string.Join("|", Items.Select(i => i.Key()).Order(StringComparer.Ordinal));

    public bool ExactMatch(Order other) => Key() == other.Key();

    public string ToExr() => "(ORDER " + string.Concat(Items.Select(i => i.ToExr() + " ")) + ")";

    /// <summary>Flattened slot multiset for slot F1: each attribute tagged with its line's head.</summary>
    public List<string> Slots()
    {
        var slots = new List<string>();
        foreach (var i in Items)
        {
            string head = i.IsDrink ? "DRINK:" + i.DrinkType : "PIZZA";
            foreach (var a in i.Attributes()) slots.Add(head + "/" + a);
        }
        return slots;
    }

    /// <summary>F1 between two slot multisets (1 when both are empty).</summary>
    public static double SlotF1(IReadOnlyList<string> predicted, IReadOnlyList<string> gold)
    {
        if (predicted.Count == 0 && gold.Count == 0) return 1.0;
        var counts = new Dictionary<string, int>();
        foreach (var g in gold) counts[g] = counts.GetValueOrDefault(g) + 1;
        int hit = 0;
        foreach (var p in predicted)
            if (counts.TryGetValue(p, out int c) && c > 0) { hit++; counts[p] = c - 1; }
        return 2.0 * hit / (predicted.Count + gold.Count);
    }

    public override string ToString() => ToExr();
}
