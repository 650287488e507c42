// Customer goals (the hidden order, pickup/delivery, name, persona), sampled from the menu catalogs or taken
// from PIZZA records, and the text realiser that turns orders into customer/seller phrases the tracker parses.
// Tested by tests/NanoMbpo.Tests/Dialog/TrackerTests.cs (realise -> parse round trip) and EnvTests.cs.
using System.Text;

namespace NanoMbpo.Dialog;

/// <summary>How the customer behaves: patience (redundant or irrelevant seller turns it tolerates) and upsell taste.</summary>
public sealed record Persona(string Name, int Patience, double UpsellAcceptance, double TypoRate);

/// <summary>The customer's hidden goal. Serialise with ToExr() plus Fulfillment and Name.</summary>
public sealed class CustomerGoal
{
    public Order Order { get; init; } = new();
    public string Fulfillment { get; init; } = "PICKUP"; // PICKUP or DELIVERY
    public string Name { get; init; } = "Alex";
    public Persona Persona { get; init; } = Personas[1];
    /// <summary>The real customer's first line when the goal came from a PIZZA file, else null.</summary>
    public string? OpeningText { get; init; }

    public string ToExr() => Order.ToExr();
    public override string ToString() => $"{ToExr()} {Fulfillment} {Name} ({Persona.Name})";

    public static readonly IReadOnlyList<Persona> Personas = new[]
    {
        new Persona("patient", 6, 0.5, 0.02), new Persona("ordinary", 4, 0.3, 0.05), new Persona("hurried", 3, 0.1, 0.08),
        new Persona("generous", 5, 0.8, 0.03), new Persona("frugal", 4, 0.05, 0.04),
    };
    public static readonly IReadOnlyList<string> Names =
        new[] { "Maria", "James", "Aisha", "Chen", "Olivia", "Diego", "Priya", "Tom", "Fatima", "Lukas", "Sofia", "Kenji", "Emma", "Omar", "Grace", "Ivan" };

    static readonly string[] s_commonToppings =
        { "PEPPERONI", "SAUSAGE", "HAM", "BACON", "CHICKEN", "MUSHROOMS", "ONIONS", "PEPPERS", "OLIVES", "PINEAPPLE", "TOMATOES", "SPINACH", "TUNA", "PESTO", "BEEF", "JALAPENO_PEPPERS", "ANCHOVIES", "BASIL" };

    /// <summary>Samples a goal: 1-2 pizza lines, 0-2 drink lines, negations and quantities, a name and a persona.</summary>
    public static CustomerGoal Sample(Menu menu, DialogRng rng)
    {
        var order = new Order();
        var styles = menu.Canonicals(EntityKind.Style);
        var drinks = menu.Canonicals(EntityKind.DrinkType);
        var toppings = s_commonToppings.Where(t => menu.Canonicals(EntityKind.Topping).Contains(t)).ToList();
        if (toppings.Count < 4) toppings = menu.Canonicals(EntityKind.Topping).ToList();
        string[] sizes = { "SMALL", "MEDIUM", "LARGE", "LARGE", "MEDIUM", "EXTRA_LARGE", "PERSONAL_SIZE" };
        int nPizza = rng.Chance(0.7) ? 1 : 2;
        for (int i = 0; i < nPizza; i++)
        {
            var p = new SubOrder { Number = rng.Chance(0.7) ? 1 : rng.Next(2, 5), Size = rng.Pick(sizes) };
            if (rng.Chance(0.3) && styles.Count > 0) p.Styles.Add(new StyleSpec(rng.Pick(styles)));
            int nTop = p.Styles.Count > 0 ? rng.Next(0, 2) : rng.Next(1, 4);
            var used = new HashSet<string>();
            for (int t = 0; t < nTop; t++)
            {
                string c = rng.Pick(toppings);
                if (!used.Add(c)) continue;
                p.Toppings.Add(new ToppingSpec(c, rng.Chance(0.12) ? (rng.Chance(0.7) ? "EXTRA" : "LIGHT") : null));
            }
            if (rng.Chance(0.25)) { string c = rng.Pick(toppings); if (used.Add(c)) p.Toppings.Add(new ToppingSpec(c, null, true)); }
            if (rng.Chance(0.12) && used.Add("CHEESE")) p.Toppings.Add(new ToppingSpec("CHEESE", "EXTRA"));
            order.Items.Add(p);
        }
        int nDrink = rng.Chance(0.55) ? 0 : rng.Chance(0.7) ? 1 : 2;
        var usedDrinks = new HashSet<string>();
        for (int i = 0; i < nDrink && drinks.Count > 0; i++)
        {
            string dt = rng.Pick(drinks);
            if (!usedDrinks.Add(dt)) continue;
            var d = new SubOrder { IsDrink = true, DrinkType = dt, Number = rng.Chance(0.6) ? 1 : rng.Next(2, 5) };
            double r = rng.NextDouble();
            if (r < 0.4) d.Size = rng.Pick(new[] { "SMALL", "MEDIUM", "LARGE" });
            else if (r < 0.6) d.Container = rng.Chance(0.5) ? "CAN" : "BOTTLE";
            else if (r < 0.7) d.Volume = "2,LITER";
            order.Items.Add(d);
        }
        return new CustomerGoal
        {
            Order = order, Fulfillment = rng.Chance(0.5) ? "PICKUP" : "DELIVERY",
            Name = rng.Pick(Names), Persona = rng.Pick(Personas),
        };
    }

    /// <summary>A goal from a PIZZA record: its EXR is the order, its SRC the opening line.</summary>
    public static CustomerGoal FromPizza(PizzaRecord r, DialogRng rng) => new()
    {
        Order = r.Order.Clone(), OpeningText = r.Src, Fulfillment = rng.Chance(0.5) ? "PICKUP" : "DELIVERY",
        Name = rng.Pick(Names), Persona = rng.Pick(Personas),
    };
}

/// <summary>Canonical values to words, using the first catalog surface form of each value.</summary>
public sealed class Realiser
{
    readonly Dictionary<(EntityKind, string), string> _surface = new();
    static readonly string[] s_numWords = { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen" };

    public Realiser(Menu menu)
    {
        foreach (var e in menu.Entries) _surface.TryAdd((e.Kind, e.Canonical), e.Surface);
    }

    public string Word(EntityKind kind, string canon) =>
        _surface.TryGetValue((kind, canon), out var s) ? s : canon.ToLowerInvariant().Replace('_', ' ');

    public static string Number(int n, string nextWord) =>
        n == 1 ? ("aeiou".Contains(nextWord.Length > 0 ? nextWord[0] : 'x') ? "an" : "a") : n < s_numWords.Length ? s_numWords[n] : n.ToString();

    public string Toppings(IEnumerable<ToppingSpec> toppings)
    {
        var names = toppings.Select(t => (t.Quantity == "EXTRA" ? "extra " : t.Quantity == "LIGHT" ? "light " : "") + Word(EntityKind.Topping, t.Canonical)).ToList();
        return names.Count <= 1 ? string.Concat(names) : string.Join(", ", names.Take(names.Count - 1)) + " and " + names[^1];
    }

    /// <summary>One line as words, e.g. "two large thin crust pizzas with ham and extra cheese but no onions".</summary>
    public string Item(SubOrder s, bool withNumber = true, bool withSize = true, bool withToppings = true, bool withCrust = true)
    {
        var sb = new StringBuilder();
        if (s.IsDrink)
        {
            string drink = Word(EntityKind.DrinkType, s.DrinkType ?? "COKE");
            string size = s.Size != null ? Word(EntityKind.Size, s.Size) + " " : "";
            string vol = s.Volume != null ? VolumeWords(s.Volume) + " " : "";
            if (s.Container != null)
            {
                string cont = Word(EntityKind.ContainerType, s.Container).Replace(" of", "");
                string first = size + cont;
                return $"{Number(s.EffectiveNumber, first)} {first}{(s.EffectiveNumber > 1 ? "s" : "")} of {vol}{drink}";
            }
            string head = size + vol + drink;
            return $"{Number(s.EffectiveNumber, head)} {head}";
        }
        var words = new List<string>();
        if (withSize && s.Size != null) words.Add(Word(EntityKind.Size, s.Size));
        foreach (var st in s.Styles.Where(x => !x.Negated))
            if (Menu.CrustStyles.Contains(st.Canonical) ? withCrust : withToppings)
                words.Add(Word(EntityKind.Style, st.Canonical));
        int n = s.EffectiveNumber;
        words.Add(n > 1 ? "pizzas" : "pizza");
        string body = string.Join(' ', words);
        sb.Append(withNumber ? Number(n, body) + " " : "some ").Append(body);
        if (withToppings) sb.Append(ToppingsPhrase(s));
        return sb.ToString();
    }

    /// <summary>" with ham and extra cheese but no onions or thin crust" (empty when nothing to say).</summary>
    public string ToppingsPhrase(SubOrder s)
    {
        var sb = new StringBuilder();
        var pos = s.Toppings.Where(t => !t.Negated).ToList();
        if (pos.Count > 0) sb.Append(" with ").Append(Toppings(pos));
        var parts = s.Toppings.Where(t => t.Negated)
            .Select(t => (t.Quantity == "EXTRA" ? "extra " : t.Quantity == "LIGHT" ? "light " : "") + Word(EntityKind.Topping, t.Canonical))
            .Concat(s.Styles.Where(x => x.Negated).Select(x => Word(EntityKind.Style, x.Canonical))).ToList();
        if (parts.Count > 0) sb.Append(" but no ").Append(string.Join(" or ", parts));
        return sb.ToString();
    }

    /// <summary>The answer to "what toppings": non-crust styles and toppings, e.g. "hawaiian with ham but no onions".</summary>
    public string ToppingsAnswer(SubOrder s)
    {
        var styles = s.Styles.Where(x => !x.Negated && !Menu.CrustStyles.Contains(x.Canonical)).Select(x => Word(EntityKind.Style, x.Canonical)).ToList();
        string phrase = ToppingsPhrase(s).Trim();
        if (styles.Count > 0) return (string.Join(" ", styles) + " " + phrase).Trim();
        return phrase.StartsWith("with ") ? phrase[5..] : phrase;
    }

    public static string VolumeWords(string volume)
    {
        var p = volume.Split(',');
        if (p.Length != 2) return volume.ToLowerInvariant();
        return p[0] + " " + (p[1] switch { "LITER" => "liter", "ML" => "ml", _ => "ounce" });
    }

    /// <summary>A whole order: items joined by commas and a final "and".</summary>
    public string OrderText(Order o)
    {
        var parts = o.Items.Select(i => Item(i)).ToList();
        if (parts.Count == 0) return "nothing yet";
        return parts.Count == 1 ? parts[0] : string.Join(", ", parts.Take(parts.Count - 1)) + " and " + parts[^1];
    }
}
