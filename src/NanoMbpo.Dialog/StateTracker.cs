// The seller-side dialog state tracker: merges each customer reply into the order state, using the seller's
// last act as context (an answer to "what size?" fills the first pizza still lacking a size; a correction
// after a confirmation replaces the order). Never throws on odd text. Tested by tests/NanoMbpo.Tests/Dialog/.
namespace NanoMbpo.Dialog;

/// <summary>Per-line flags: the slot was given or the customer said they have no preference.</summary>
public sealed class ItemFlags
{
    public bool Number, Size, Toppings, Crust;
}

/// <summary>What the seller knows so far.</summary>
public sealed class DialogState
{
    public Order Order { get; private set; } = new();
    public List<ItemFlags> Flags { get; } = new();
    public bool DrinksResolved { get; set; }
    public string? Fulfillment { get; set; }
    public string? Name { get; set; }
    public string? ConfirmedKey { get; set; }
    public bool TotalStated { get; set; }
    public int ClarifyCount { get; set; }

    public string Key() => Order.Key() + "#" + Fulfillment + "#" + Name;
    public bool Confirmed => ConfirmedKey == Key();

    public void SetOrder(Order o)
    {
        Order = o;
        Flags.Clear();
        foreach (var i in o.Items) Flags.Add(FlagsFor(i));
        if (o.Drinks.Any()) DrinksResolved = true;
    }

    public void AddItem(SubOrder s)
    {
        Order.Items.Add(s);
        Flags.Add(FlagsFor(s));
        if (s.IsDrink) DrinksResolved = true;
    }

    static ItemFlags FlagsFor(SubOrder s) => s.IsDrink
        ? new ItemFlags { Number = true, Size = true, Toppings = true, Crust = true }
        : new ItemFlags
        {
            Number = s.Number != null, Size = s.Size != null,
            Toppings = s.Toppings.Count > 0 || s.Styles.Any(x => !Menu.CrustStyles.Contains(x.Canonical)),
            Crust = s.Styles.Any(x => Menu.CrustStyles.Contains(x.Canonical)),
        };

    /// <summary>Index of the first pizza line whose slot is still open, or -1.</summary>
    public int FirstOpen(Func<ItemFlags, bool> isResolved)
    {
        for (int i = 0; i < Order.Items.Count; i++)
            if (!Order.Items[i].IsDrink && !isResolved(Flags[i])) return i;
        return -1;
    }
}

public sealed class StateTracker
{
    readonly OrderParser _parser;
    static readonly string[] s_nameCues = { "name is", "it's", "its", "under", "this is", "i'm", "im", "call me", "for", "name's", "is" };
    static readonly HashSet<string> s_notNames = new()
    {
        "yes", "no", "sure", "okay", "ok", "the", "name", "it", "is", "please", "thanks", "thank", "you", "a", "uh", "um", "my", "its", "it's",
        "under", "for", "me", "call", "this", "i'm", "im", "so", "well", "like", "just", "pickup", "delivery", "that", "hmm", "oh", "right",
    };

    public StateTracker(OrderParser parser) { _parser = parser; }

    /// <summary>Merges one customer reply given the seller's last act.</summary>
    public void Update(DialogState st, SellerAct? lastAct, string customerText)
    {
        string text = customerText ?? "";
        var parsed = _parser.Parse(text);
        var toks = Lexicon.Tokenize(text);
        string norm = " " + string.Join(' ', toks) + " ";
        UpdateFulfillment(st, norm);
        switch (lastAct)
        {
            case null: // the opening line
            case SellerAct.Greet:
            case SellerAct.AskClarify:
                if (lastAct == SellerAct.AskClarify) st.ClarifyCount++;
                if (st.Order.Items.Count == 0) st.SetOrder(parsed);
                break;
            case SellerAct.AskNumber:
                {
                    int i = st.FirstOpen(f => f.Number);
                    if (i < 0) break;
                    var num = _parser.Lex(text).FirstOrDefault(t => t.Kind == LexKind.Entity && t.Entity == EntityKind.Number);
                    if (num != null && int.TryParse(num.Canonical, out int n)) st.Order.Items[i].Number = n;
                    st.Flags[i].Number = true;
                    break;
                }
            case SellerAct.AskSize:
                {
                    int i = st.FirstOpen(f => f.Size);
                    if (i < 0) break;
                    var size = _parser.Lex(text).FirstOrDefault(t => t.Kind == LexKind.Entity && t.Entity == EntityKind.Size);
                    if (size != null) st.Order.Items[i].Size = size.Canonical;
                    st.Flags[i].Size = true;
                    break;
                }
            case SellerAct.AskToppings:
            case SellerAct.AskCrust:
                {
                    bool crust = lastAct == SellerAct.AskCrust;
                    int i = st.FirstOpen(f => crust ? f.Crust : f.Toppings);
                    if (i < 0) break;
                    var target = st.Order.Items[i];
                    foreach (var p in parsed.Pizzas)
                    {
                        foreach (var s in p.Styles) if (!target.Styles.Contains(s)) target.Styles.Add(s);
                        foreach (var t in p.Toppings) if (!target.Toppings.Contains(t)) target.Toppings.Add(t);
                    }
                    if (crust) st.Flags[i].Crust = true; else st.Flags[i].Toppings = true;
                    break;
                }
            case SellerAct.UpsellCheese:
                {
                    var first = st.Order.Pizzas.FirstOrDefault();
                    var extra = parsed.Pizzas.SelectMany(p => p.Toppings).Where(t => !t.Negated).ToList();
                    if (first != null && IsYes(norm))
                        foreach (var t in extra) if (!first.Toppings.Contains(t)) first.Toppings.Add(t);
                    break;
                }
            case SellerAct.AskDrinks:
            case SellerAct.UpsellDrink:
            case SellerAct.AskAnythingElse:
                AddNewItems(st, parsed);
                if (lastAct == SellerAct.AskDrinks) st.DrinksResolved = true;
                break;
            case SellerAct.AskName:
                st.Name = ExtractName(text) ?? st.Name;
                break;
            case SellerAct.Confirm:
                if (IsNo(norm))
                {
                    if (parsed.Items.Count > 0)
                    {
                        st.SetOrder(parsed);
                        foreach (var f in st.Flags) f.Number = f.Size = f.Toppings = f.Crust = true;
                        st.DrinksResolved = true;
                    }
                    int at = norm.IndexOf(" name is ", StringComparison.Ordinal);
                    if (at >= 0) st.Name = ExtractName(text[Math.Min(text.Length, Math.Max(0, text.IndexOf("name is", StringComparison.OrdinalIgnoreCase)))..]) ?? st.Name;
                    st.ConfirmedKey = null;
                }
                else if (IsYes(norm)) st.ConfirmedKey = st.Key();
                break;
            case SellerAct.StateTotal:
                st.TotalStated = true;
                break;
        }
    }

    static void AddNewItems(DialogState st, Order parsed)
    {
        var have = new HashSet<string>(st.Order.Items.Select(i => i.Key()));
        foreach (var item in parsed.Items)
            if (have.Add(item.Key())) st.AddItem(item);
    }

    static void UpdateFulfillment(DialogState st, string norm)
    {
        bool pick = norm.Contains(" pickup ") || norm.Contains(" pick up ") || norm.Contains(" pick it up ") || norm.Contains(" carry out ") || norm.Contains(" takeout ") || norm.Contains(" take out ");
        bool del = norm.Contains(" delivery ") || norm.Contains(" deliver ") || norm.Contains(" delivered ");
        if (pick && !del) st.Fulfillment = "PICKUP";
        else if (del && !pick) st.Fulfillment = "DELIVERY";
    }

    public static bool IsYes(string norm) =>
        norm.Contains(" yes ") || norm.Contains(" yeah ") || norm.Contains(" yep ") || norm.Contains(" sure ") || norm.Contains(" correct ")
        || norm.Contains(" right ") && !norm.Contains(" not right ") || norm.Contains(" perfect ") || norm.Contains(" okay ") || norm.Contains(" ok ");

    public static bool IsNo(string norm) =>
        norm.StartsWith(" no ") || norm.Contains(" nope ") || norm.Contains(" not right ") || norm.Contains(" wrong ") || norm.Contains(" not correct ")
        || norm.Contains(" not quite ") || norm.Contains(" actually ");

    /// <summary>The customer's name: the word after a cue ("my name is X", "under X"), else the last capitalised word.</summary>
    public static string? ExtractName(string text)
    {
        var words = text.Split(new[] { ' ', ',', '.', '!', '?', ';', ':' }, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < words.Length; i++)
        {
            string lw = words[i].ToLowerInvariant();
            foreach (var cue in s_nameCues)
            {
                var cw = cue.Split(' ');
                if (i + cw.Length < words.Length && cw.Select((c, k) => words[i + k].ToLowerInvariant() == c).All(b => b))
                {
                    string cand = words[i + cw.Length];
                    if (!s_notNames.Contains(cand.ToLowerInvariant()) && cand.All(char.IsLetter)) return Capitalise(cand);
                }
            }
            _ = lw;
        }
        var caps = words.Where(w => w.Length > 1 && char.IsUpper(w[0]) && w.All(char.IsLetter) && !s_notNames.Contains(w.ToLowerInvariant())).ToList();
        if (caps.Count > 0) return Capitalise(caps[^1]);
        var rest = words.Where(w => w.All(char.IsLetter) && !s_notNames.Contains(w.ToLowerInvariant())).ToList();
        return rest.Count == 1 ? Capitalise(rest[0]) : null;
    }

    static string Capitalise(string w) => char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant();
}
