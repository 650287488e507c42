// The KinPizza menu: catalogs in the PIZZA format (surface form TAB kind(CANONICAL)) plus prices.
// Our own catalogs ship as embedded resources (Dialog/Catalogs/*.txt); Menu.LoadCatalogDirectory also reads
// the PIZZA authors' catalogs/ folder. Tested by tests/NanoMbpo.Tests/Dialog/FileFormatTests.cs.
using System.Globalization;
using System.Reflection;

namespace NanoMbpo.Dialog;

/// <summary>The entity kinds a catalog line may name (PIZZA spelling, case-insensitive).</summary>
public enum EntityKind { Number, Size, Style, Topping, DrinkType, ContainerType, Volume, Quantity }

/// <summary>One catalog line: a surface form (normalized, lower case) and its canonical value.</summary>
public sealed record CatalogEntry(string Surface, EntityKind Kind, string Canonical);

/// <summary>Catalog entries and prices. Immutable after construction.</summary>
public sealed class Menu
{
    static readonly Lazy<Menu> s_default = new(LoadEmbedded);

    public IReadOnlyList<CatalogEntry> Entries { get; }
    public string Source { get; }
    readonly Dictionary<EntityKind, List<string>> _canon = new();

    // Crust styles are asked with "what crust"; the rest of the styles answer "what kind of pizza".
    public static readonly IReadOnlySet<string> CrustStyles = new HashSet<string>
    {
        "THIN_CRUST", "THICK_CRUST", "STUFFED_CRUST", "DEEP_DISH", "GLUTEN_FREE_CRUST", "CAULIFLOWER_CRUST",
        "KETO_CRUST", "SOURDOUGH_CRUST", "NEW_YORK_STYLE", "CHICAGO_STYLE", "NEAPOLITAN",
    };

    public Menu(IEnumerable<CatalogEntry> entries, string source)
    {
        Entries = entries.ToList();
        Source = source;
        if (Entries.Count == 0) throw new InvalidDataException($"{source}: no catalog entries found");
        foreach (var e in Entries)
        {
            if (!_canon.TryGetValue(e.Kind, out var list)) _canon[e.Kind] = list = new List<string>();
            if (!list.Contains(e.Canonical)) list.Add(e.Canonical);
        }
    }

    /// <summary>The menu built from our own embedded catalogs.</summary>
    public static Menu Default => s_default.Value;

    /// <summary>Distinct canonical values of one kind, in first-seen order.</summary>
    public IReadOnlyList<string> Canonicals(EntityKind kind) =>
        _canon.TryGetValue(kind, out var l) ? l : Array.Empty<string>();

    static Menu LoadEmbedded()
    {
        var asm = typeof(Menu).Assembly;
        var entries = new List<CatalogEntry>();
        var names = asm.GetManifestResourceNames().Where(n => n.Contains(".Dialog.Catalogs.") && n.EndsWith(".txt")).Order();
        foreach (var name in names)
        {
            using var s = asm.GetManifestResourceStream(name)!;
            using var r = new StreamReader(s);
            entries.AddRange(ParseCatalog(r, name));
        }
        return new Menu(entries, "embedded KinPizza catalogs");
    }

    /// <summary>Loads every *.txt file of a PIZZA-style catalogs folder.</summary>
    public static Menu LoadCatalogDirectory(string path)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"catalog directory '{path}' does not exist");
        var entries = new List<CatalogEntry>();
        foreach (var file in Directory.GetFiles(path, "*.txt").Order(StringComparer.Ordinal))
        {
            using var r = new StreamReader(file);
            entries.AddRange(ParseCatalog(r, file));
        }
        return new Menu(entries, path);
    }

    /// <summary>Parses catalog lines; '#' starts a comment line. Errors name the file and line.</summary>
    public static List<CatalogEntry> ParseCatalog(TextReader reader, string fileName)
    {
        var list = new List<CatalogEntry>();
        string? line;
        int lineNo = 0;
        while ((line = reader.ReadLine()) != null)
        {
            lineNo++;
            if (line.Length == 0 || line.StartsWith('#') || string.IsNullOrWhiteSpace(line)) continue;
            int tab = line.IndexOf('\t');
            string where = $"{fileName}:{lineNo}";
            if (tab <= 0) throw new InvalidDataException($"{where}: expected 'surface form<TAB>kind(CANONICAL)', found no tab in '{line}'");
            string surface = Lexicon.NormalizeText(line[..tab]);
            string rhs = line[(tab + 1)..].Trim();
            int open = rhs.IndexOf('('), close = rhs.LastIndexOf(')');
            if (surface.Length == 0) throw new InvalidDataException($"{where}: empty surface form");
            if (open <= 0 || close != rhs.Length - 1 || close <= open + 1)
                throw new InvalidDataException($"{where}: expected kind(CANONICAL) after the tab, found '{rhs}'");
            string kindText = rhs[..open].Trim();
            string canon = rhs[(open + 1)..close].Replace(" ", "").ToUpperInvariant();
            if (!TryParseKind(kindText, out var kind))
                throw new InvalidDataException($"{where}: unknown entity kind '{kindText}' (expected one of number, size, style, topping, drinkType, containerType, volume, quantity)");
            list.Add(new CatalogEntry(surface, kind, canon));
        }
        return list;
    }

    static bool TryParseKind(string text, out EntityKind kind) => Enum.TryParse(text, ignoreCase: true, out kind);

    // ---- prices (Taskmaster-1 for small/medium/large; the rest are our own choices) ----
    static readonly Dictionary<string, decimal> s_pizzaPrice = new()
    {
        ["PERSONAL_SIZE"] = 8.99m, ["LUNCH_SIZE"] = 9.99m, ["SMALL"] = 12.99m, ["MEDIUM"] = 18.99m,
        ["REGULARSIZE"] = 18.99m, ["LARGE"] = 23.99m, ["EXTRA_LARGE"] = 27.99m, ["PARTY_SIZE"] = 32.99m,
    };
    public const decimal ToppingPrice = 1.50m, ExtraQuantityPrice = 1.00m, SpecialtyStylePrice = 2.00m;

    public static decimal PizzaBasePrice(string? size) =>
        size != null && s_pizzaPrice.TryGetValue(size, out var p) ? p : s_pizzaPrice["MEDIUM"];

    public static decimal DrinkPrice(SubOrder d)
    {
        if (d.Volume != null)
        {
            var parts = d.Volume.Split(',');
            if (parts.Length == 2 && decimal.TryParse(parts[0], NumberStyles.Number, CultureInfo.InvariantCulture, out var v))
                return parts[1] == "LITER" ? 1.49m + v : parts[1] == "ML" ? 1.49m + v / 500m : 1.49m + v / 16m;
        }
        return d.Size switch { "SMALL" or "PERSONAL_SIZE" => 1.99m, "LARGE" or "EXTRA_LARGE" or "PARTY_SIZE" => 2.99m, _ => 2.49m };
    }

    /// <summary>Price of one line (number times unit price). Negated toppings cost nothing.</summary>
    public static decimal LinePrice(SubOrder s)
    {
        decimal unit;
        if (s.IsDrink) unit = DrinkPrice(s);
        else
        {
            unit = PizzaBasePrice(s.Size);
            foreach (var st in s.Styles) if (!st.Negated) unit += SpecialtyStylePrice;
            foreach (var t in s.Toppings)
                if (!t.Negated) unit += ToppingPrice + (t.Quantity == "EXTRA" ? ExtraQuantityPrice : 0m);
        }
        return unit * s.EffectiveNumber;
    }

    public static decimal Total(Order o) => o.Items.Sum(LinePrice);
}
