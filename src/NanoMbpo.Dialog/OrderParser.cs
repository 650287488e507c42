// Rule-based semantic parser from one customer utterance to an Order: longest-match catalog entities,
// negation scope ("no onions or peppers", "hold the", "avoid", "i don't want it on thin crust"), quantities
// ("extra", "light on the", "a lot of"), numbers in words, and segmentation into pizza/drink sub-orders.
// Scored by `nanombpo track --input PIZZA_FILE`; tested by tests/NanoMbpo.Tests/Dialog/TrackerTests.cs.
namespace NanoMbpo.Dialog;

/// <summary>An entity the parser used: kind, canonical value, negation, whether its line is a drink, char span [Start, End).</summary>
public sealed record EntityMention(EntityKind Kind, string Canonical, bool Negated, bool InDrink, int Start, int End);

public sealed class OrderParser
{
    enum El { Num, Size, Style, Topping, Drink, Container, Volume, PizzaNoun }
    // Start/End: the token range [Start, End) the element came from; QtyAt: the token range of its quantity word.
    sealed record Element(El Kind, string Canon, string? Qty, bool Neg, string Text, int Start = -1, int End = -1, (int Start, int End)? QtyAt = null, bool Distributive = false);

    readonly Lexicon _lex;
    public OrderParser(Menu menu) { _lex = new Lexicon(menu); }
    public OrderParser() : this(Menu.Default) { }

    // Words allowed between a negation cue and what it negates ("don't want it on thin crust").
    static readonly HashSet<string> s_negFiller = new()
    {
        "any", "the", "want", "it", "on", "put", "add", "adding", "to", "have", "need", "me", "them", "there", "please",
        "i", "some", "of", "a", "like", "my", "with", "get", "include", "including", "too", "much", "really", "wanna",
        "want", "be", "is", "it's", "its", "should", "that", "those", "these", "go", "for", "use", "using", "kind", "type",
        "we", "do", "does", "need", "can", "you", "your", "even", "at", "all", "sure", "make", "made", "something",
    };
    // Words that keep a negation going over a list ("no onions, peppers or olives").
    static readonly HashSet<string> s_negConnector = new() { "and", "or", "nor", ",", "any", "the", "also", "either", "neither", "even", "plus" };
    static readonly HashSet<string> s_qtyFiller = new() { "the", "of", "some", "on", "with", "amount", "portion", "serving", "helping" };
    static readonly HashSet<string> s_numberSkipNext = new() { "topping", "toppings", "slice", "slices", "people", "persons", "minutes", "o'clock", "pm", "am" };

    /// <summary>Parses an utterance; never throws on odd text (empty or garbled text gives an empty order).</summary>
    public Order Parse(string text)
    {
        var toks = Lexicon.Tokenize(text ?? "");
        var lex = _lex.Match(toks);
        var els = Extract(lex);
        return Build(GroupElements(els));
    }

    /// <summary>Tokens after the lexicon match (for debugging and tests).</summary>
    public List<LexToken> Lex(string text) => _lex.Match(Lexicon.Tokenize(text ?? ""));

    /// <summary>
    /// The entities behind <see cref="Parse"/>'s result, with char spans in <paramref name="text"/>, in text order:
    /// numbers that head a line (an article merged into an earlier line is none), sizes, styles, toppings (with
    /// their quantity word as a Quantity mention), drinks, containers and volumes. For corpus segments.
    /// </summary>
    public List<EntityMention> Mentions(string text)
    {
        var (toks, spans) = Lexicon.TokenizeWithSpans(text ?? "");
        var groups = GroupElements(Extract(_lex.Match(toks)));
        var list = new List<EntityMention>();
        void Add(EntityKind k, string canon, bool neg, bool drink, int t0, int t1)
        {
            if (t0 >= 0 && t1 > t0) list.Add(new EntityMention(k, canon, neg, drink, spans[t0].Start, spans[t1 - 1].End));
        }
        foreach (var g in groups.Where(x => x.HasContent))
        {
            if (g.NumberEl is { } n) Add(EntityKind.Number, n.Canon, false, g.Drink, n.Start, n.End);
            foreach (var e in g.Els)
            {
                if (e.QtyAt is { } q) Add(EntityKind.Quantity, e.Qty!, e.Neg, g.Drink, q.Start, q.End);
                EntityKind? kind = e.Kind switch
                {
                    El.Size => EntityKind.Size, El.Style => EntityKind.Style, El.Topping => EntityKind.Topping,
                    El.Drink => EntityKind.DrinkType, El.Container => EntityKind.ContainerType, El.Volume => EntityKind.Volume,
                    _ => null,
                };
                if (kind is { } k) Add(k, e.Canon, e.Neg, g.Drink, e.Start, e.End);
            }
        }
        return list.OrderBy(m => m.Start).ThenBy(m => m.End).ToList();
    }

    static List<Element> Extract(List<LexToken> lex)
    {
        var els = new List<Element>();
        bool negCue = false, negScope = false;
        int negGap = 0;
        string? pendingQty = null;
        (int, int)? qtyAt = null;
        for (int k = 0; k < lex.Count; k++)
        {
            var t = lex[k];
            var next = k + 1 < lex.Count ? lex[k + 1] : null;
            switch (t.Kind)
            {
                case LexKind.Entity:
                    switch (t.Entity)
                    {
                        case EntityKind.Number:
                            if (next is { Kind: LexKind.Unit })
                            {
                                els.Add(new Element(El.Volume, t.Canonical + "," + next.Canonical, null, false, t.Text + " " + next.Text, t.Start, next.End));
                                k++;
                            }
                            else if (next is { Kind: LexKind.Word } && s_numberSkipNext.Contains(next.Text)) { }
                            else if (t.Canonical.Contains('.')) { } // a decimal without a unit is no count
                            else if (negCue && t.Text is "a" or "an") { negGap++; break; } // "without a thin crust"
                            else if (t.Text == "one" && k > 0 && els.Count > 0 && lex[k - 1].Kind == LexKind.Entity
                                     && els[^1].Kind is El.Size or El.Style or El.Topping or El.Drink) { } // "a large one"
                            else els.Add(new Element(El.Num, t.Canonical, null, false, t.Text, t.Start, t.End));
                            negCue = negScope = false;
                            pendingQty = null;
                            break;
                        case EntityKind.Quantity:
                            pendingQty = t.Canonical;
                            qtyAt = (t.Start, t.End);
                            negScope = false;
                            break;
                        case EntityKind.Topping:
                        case EntityKind.Style:
                            {
                                bool neg = negCue || negScope;
                                string? q = t.Entity == EntityKind.Topping ? pendingQty : null;
                                els.Add(new Element(t.Entity == EntityKind.Topping ? El.Topping : El.Style, t.Canonical, q, neg, t.Text, t.Start, t.End, q != null ? qtyAt : null));
                                negScope = neg;
                                negCue = false;
                                pendingQty = null;
                                break;
                            }
                        case EntityKind.Size when s_nounSizes.Contains(t.Text) && !StartsPizzaPhrase(next):
                            break; // "for the party", "a pizza for lunch": the noun, not the size
                        case EntityKind.ContainerType when t.Text == "can" && !CanIsContainer(lex, k):
                            negCue = negScope = false; // the verb "can" ("can i get ...")
                            break;
                        default:
                            var kind = t.Entity switch
                            {
                                EntityKind.Size => El.Size, EntityKind.DrinkType => El.Drink,
                                EntityKind.ContainerType => El.Container, _ => El.Volume,
                            };
                            // "one ham pizza and one tuna pizza, both large": the size goes to every line before it
                            bool dist = kind == El.Size && k > 0 && lex[k - 1] is { Kind: LexKind.Word, Text: "both" or "all" };
                            els.Add(new Element(kind, t.Canonical, null, false, t.Text, t.Start, t.End, Distributive: dist));
                            negCue = negScope = false;
                            pendingQty = null;
                            break;
                    }
                    break;
                case LexKind.Negation:
                    negCue = true; negGap = 0; negScope = false;
                    break;
                case LexKind.PizzaNoun:
                    els.Add(new Element(El.PizzaNoun, "PIZZA", null, false, t.Text, t.Start, t.End));
                    negCue = negScope = false;
                    break;
                case LexKind.Ignore:
                case LexKind.DrinkNoun:
                case LexKind.Unit:
                    negCue = negScope = false;
                    pendingQty = null;
                    break;
                default: // Word
                    string w = t.Text;
                    if (w == ".") { negCue = negScope = false; pendingQty = null; break; }
                    if (negCue && (!s_negFiller.Contains(w) || ++negGap > 4)) negCue = false;
                    if (negScope && !s_negConnector.Contains(w)) negScope = false;
                    if (pendingQty != null && !s_qtyFiller.Contains(w)) pendingQty = null;
                    break;
            }
        }
        return els;
    }

    // Size words that are nouns on their own ("party", "lunch") are sizes only before what they modify.
    static readonly HashSet<string> s_nounSizes = new() { "party", "lunch" };
    static bool StartsPizzaPhrase(LexToken? next) =>
        next is { Kind: LexKind.PizzaNoun } or { Kind: LexKind.Entity, Entity: EntityKind.Style or EntityKind.Topping or EntityKind.Size or EntityKind.DrinkType };

    // "can" is a container only next to a number, size, drink or article: "two cans of", "a can of coke", "coke in a can".
    static bool CanIsContainer(List<LexToken> lex, int k)
    {
        var prev = k > 0 ? lex[k - 1] : null;
        var next = k + 1 < lex.Count ? lex[k + 1] : null;
        if (prev is { Kind: LexKind.Entity, Entity: EntityKind.Number or EntityKind.Size or EntityKind.DrinkType }) return true;
        if (next is { Kind: LexKind.Entity, Entity: EntityKind.DrinkType }) return true;
        return prev is { Kind: LexKind.Word, Text: "in" or "the" or "per" or "by" };
    }

    sealed class GroupState
    {
        public readonly List<Element> Els = new();
        public string? Number, Size, Container, Volume;
        public Element? NumberEl;
        public bool PizzaHead, PizzaNoun, Drink, ByArticle;
        public bool HasContent => Els.Any(e => e.Kind != El.Num);
        public bool IsPizza => PizzaHead && !Drink;
    }

    static List<GroupState> GroupElements(List<Element> els)
    {
        var groups = new List<GroupState>();
        var g = new GroupState();
        groups.Add(g);
        GroupState NewGroup() { g = new GroupState(); groups.Add(g); return g; }

        for (int p = 0; p < els.Count; p++)
        {
            var e = els[p];
            switch (e.Kind)
            {
                case El.Num:
                    if (g.HasContent) NewGroup();
                    g.Number = e.Canon;
                    g.NumberEl = e;
                    g.ByArticle = e.Text is "a" or "an";
                    break;
                case El.Size when e.Distributive && groups.Count(x => x.IsPizza) > 1:
                    foreach (var x in groups.Where(x => x.IsPizza && x.Size == null)) x.Size = e.Canon;
                    groups.Last(x => x.IsPizza).Els.Add(e);
                    break;
                case El.Size:
                case El.Container:
                case El.Volume:
                    {
                        string target = LookAhead(els, p);
                        string type = g.Drink ? "drink" : g.PizzaHead ? "pizza" : "none";
                        string? have = e.Kind == El.Size ? g.Size : e.Kind == El.Container ? g.Container : g.Volume;
                        bool conflict = have != null && have != e.Canon && type != "none";
                        if ((target != "back" && type != "none" && target != type) || conflict) NewGroup();
                        if (e.Kind == El.Size) g.Size = e.Canon; else if (e.Kind == El.Container) g.Container = e.Canon; else g.Volume = e.Canon;
                        g.Els.Add(e);
                        break;
                    }
                case El.Topping:
                case El.Style:
                    if (g.Drink)
                    {
                        var lastPizza = groups.LastOrDefault(x => x.IsPizza);
                        if (e.Neg && lastPizza != null) { lastPizza.Els.Add(e); break; }
                        NewGroup();
                    }
                    g.PizzaHead = true;
                    g.Els.Add(e);
                    break;
                case El.PizzaNoun:
                    if (g.Drink) NewGroup();
                    g.PizzaHead = g.PizzaNoun = true;
                    g.Els.Add(e);
                    break;
                case El.Drink:
                    if (g.Drink || g.PizzaHead) NewGroup();
                    g.Drink = true;
                    g.Els.Add(e);
                    break;
            }
        }

        // "a pizza with a thin crust", "a pizza ... make it a large": an article that starts no new pizza.
        for (int i = groups.Count - 1; i >= 1; i--)
        {
            var cur = groups[i];
            var prev = groups[i - 1];
            bool mergeable = cur.ByArticle && !cur.PizzaNoun && !cur.Drink && prev.PizzaHead && !prev.Drink
                             && !(cur.Size != null && prev.Size != null);
            bool headless = !cur.PizzaHead && !cur.Drink && cur.Number == null && (prev.PizzaHead || prev.Drink)
                            && !(cur.Size != null && prev.Size != null);
            if (mergeable || headless)
            {
                prev.Els.AddRange(cur.Els);
                prev.Size ??= cur.Size;
                prev.Container ??= cur.Container;
                prev.Volume ??= cur.Volume;
                groups.RemoveAt(i);
            }
        }

        return groups;
    }

    static Order Build(List<GroupState> groups)
    {
        var order = new Order();
        foreach (var gr in groups)
        {
            if (!gr.HasContent) continue;
            var s = new SubOrder { IsDrink = gr.Drink, Size = gr.Size, Container = gr.Container, Volume = gr.Volume };
            if (gr.Number != null && int.TryParse(gr.Number, out int n)) s.Number = n;
            foreach (var e in gr.Els)
            {
                if (e.Kind == El.Drink) s.DrinkType ??= e.Canon;
                else if (e.Kind == El.Style && !s.IsDrink)
                {
                    var st = new StyleSpec(e.Canon, e.Neg);
                    if (!s.Styles.Contains(st)) s.Styles.Add(st);
                }
                else if (e.Kind == El.Topping && !s.IsDrink)
                {
                    var tp = new ToppingSpec(e.Canon, e.Qty, e.Neg);
                    if (!s.Toppings.Contains(tp)) s.Toppings.Add(tp);
                }
            }
            order.Items.Add(s);
        }
        return order;
    }

    // Which head the modifier at p belongs to: the next drink or pizza head before another number, else "back".
    static string LookAhead(List<Element> els, int p)
    {
        for (int q = p + 1; q < els.Count; q++)
        {
            switch (els[q].Kind)
            {
                case El.Num: return "back";
                case El.Drink: return "drink";
                case El.Topping or El.Style or El.PizzaNoun: return els[q].Neg ? "back" : "pizza";
            }
        }
        return "back";
    }
}
