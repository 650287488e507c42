// Agenda-based, seeded customer simulator: reveals part of its hidden goal in its opening line, answers slot
// questions, corrects wrong confirmations, takes or declines upsells by persona, loses patience on redundant or
// irrelevant seller turns and hangs up when it runs out. Text only. Each reply carries a satisfaction label (see
// CustomerReply) that the learned reply reward trains on. Tested by tests/NanoMbpo.Tests/Dialog/EnvTests.cs and
// tests/NanoMbpo.Tests/Dialog/SatisfactionTests.cs.
using System.Text;

namespace NanoMbpo.Dialog;

/// <summary>The customer's reaction to one seller turn.</summary>
/// <param name="Satisfaction">The simulator's hidden label of the reply (never shown to the seller):
/// +1 the turn moved the order forward (a slot answer with information not given before, "yes" to a correct
/// confirmation, the first acceptance of a stated total, an accepted upsell, the success reply);
/// -1 the customer is annoyed (every annoyed path: a redundant or irrelevant turn, a repeat, a greeting mid-order,
/// a third wrong confirmation, an apology for nothing), hangs up, or the dialog ends badly (a failed order, the
/// seller's goodbye); 0 neutral (a declined upsell, "No, that's all." the first time, "No problem." after a
/// correction, a first request to repeat, and a correction after a wrong confirmation: informative but not
/// satisfying).</param>
public sealed record CustomerReply(string Text, bool Done, bool HungUp, bool Success, int Satisfaction);

public sealed class CustomerSimulator
{
    readonly CustomerGoal _goal;
    readonly Realiser _real;
    readonly DialogRng _rng;
    readonly List<ItemFlags> _revealed = new();
    bool _drinksRevealed, _fulfillmentRevealed, _nameRevealed, _totalHeard, _lastWasCorrection, _upsoldDrink, _upsoldCheese, _saidAllSet;
    string? _confirmedKey;
    string _last = "";
    int _wrongConfirms;

    public int Patience { get; private set; }
    public CustomerGoal Goal => _goal;

    static readonly string[] s_hello = { "Hi, ", "Hello, ", "Hey there. ", "", "Good evening, ", "Hi! " };
    static readonly string[] s_frames = { "I'd like ", "can I get ", "I want to order ", "could I have ", "let me get ", "I'll have ", "I need " };
    static readonly string[] s_fillers = { "um, ", "uh, ", "so ", "okay so ", "", "", "" };
    static readonly string[] s_irritated = { "Um, okay.", "Can we get on with my order?", "Sure... anyway.", "Okay? I just want to order." };
    static readonly string[] s_redundant = { "I already told you that.", "I said that already.", "Like I said before." };

    public CustomerSimulator(CustomerGoal goal, Menu menu, OrderParser parser, DialogRng rng)
    {
        _goal = goal;
        _real = new Realiser(menu);
        _rng = rng;
        Patience = goal.Persona.Patience;
        if (goal.OpeningText != null) AlignToOpening(parser.Parse(goal.OpeningText));
    }

    // A PIZZA goal's lines come sorted; put them in the order the opening line mentions them and mark what it said.
    void AlignToOpening(Order said)
    {
        var remaining = _goal.Order.Items.ToList();
        var ordered = new List<SubOrder>();
        var flags = new List<ItemFlags>();
        foreach (var s in said.Items)
        {
            var best = remaining.OrderByDescending(g => Order.SlotF1(s.Attributes(), g.Attributes()) + (g.IsDrink == s.IsDrink ? 1 : 0)).FirstOrDefault();
            if (best == null) break;
            remaining.Remove(best);
            ordered.Add(best);
            flags.Add(new ItemFlags
            {
                Number = s.Number != null, Size = s.Size != null,
                Toppings = s.Toppings.Count > 0 || s.Styles.Any(x => !Menu.CrustStyles.Contains(x.Canonical)),
                Crust = s.Styles.Any(x => Menu.CrustStyles.Contains(x.Canonical)),
            });
        }
        foreach (var r in remaining) { ordered.Add(r); flags.Add(new ItemFlags()); }
        _goal.Order.Items.Clear();
        _goal.Order.Items.AddRange(ordered);
        _revealed.AddRange(flags);
        _drinksRevealed = said.Drinks.Any();
    }

    /// <summary>The first line: reveals part of the goal.</summary>
    public string Opening()
    {
        if (_goal.OpeningText != null) return _last = _goal.OpeningText;
        var items = new List<string>();
        foreach (var s in _goal.Order.Items)
        {
            if (s.IsDrink) { _revealed.Add(new ItemFlags { Number = true, Size = true, Toppings = true, Crust = true }); continue; }
            var f = new ItemFlags
            {
                Number = !_rng.Chance(0.2), Size = !_rng.Chance(0.35),
                Toppings = !(s.Toppings.Count > 0 || s.Styles.Count > 0) ? false : !_rng.Chance(0.3),
            };
            f.Crust = s.Styles.Any(x => Menu.CrustStyles.Contains(x.Canonical) && !x.Negated) && !_rng.Chance(0.4);
            _revealed.Add(f);
            items.Add(_real.Item(s, f.Number, f.Size, f.Toppings, f.Crust));
        }
        if (_goal.Order.Drinks.Any() && _rng.Chance(0.5))
        {
            _drinksRevealed = true;
            items.AddRange(_goal.Order.Drinks.Select(d => _real.Item(d)));
        }
        string list = items.Count <= 1 ? string.Concat(items) : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];
        var sb = new StringBuilder();
        sb.Append(Typo(_rng.Pick(s_hello) + _rng.Pick(s_fillers) + _rng.Pick(s_frames))).Append(list);
        if (_rng.Chance(0.2)) { _fulfillmentRevealed = true; sb.Append(_goal.Fulfillment == "DELIVERY" ? " for delivery" : " for pickup"); }
        sb.Append(_rng.Chance(0.5) ? "." : Typo(", please."));
        string text = sb.ToString();
        return _last = char.ToUpperInvariant(text[0]) + text[1..];
    }

    // Typos only in frame words, so entity words stay readable (the tracker still has fuzzy matching).
    string Typo(string s)
    {
        if (!_rng.Chance(_goal.Persona.TypoRate * 4)) return s;
        var chars = s.ToCharArray();
        for (int tries = 0; tries < 8; tries++)
        {
            int i = _rng.Next(Math.Max(1, chars.Length - 1));
            if (i + 1 < chars.Length && char.IsLetter(chars[i]) && char.IsLetter(chars[i + 1])) { (chars[i], chars[i + 1]) = (chars[i + 1], chars[i]); break; }
        }
        return new string(chars);
    }

    bool GoalMatches(DialogState st) =>
        st.Order.ExactMatch(_goal.Order) && st.Fulfillment == _goal.Fulfillment && string.Equals(st.Name, _goal.Name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Reacts to one seller action; `state` is what the seller's turn said (its tracker state).</summary>
    public CustomerReply Respond(SellerAct act, DialogState st)
    {
        bool wasCorrection = _lastWasCorrection;
        _lastWasCorrection = false;
        string? text = null;
        bool annoyed = false, progress = false;   // progress: the reply moved the order forward (label +1)
        switch (act)
        {
            case SellerAct.AskNumber: text = AnswerSlot(f => f.Number, (f) => f.Number = true, s => s.EffectiveNumber == 1 ? "Just one." : Realiser.Number(s.EffectiveNumber, "x") + ", please."); progress = !_redundantFlag; break;
            case SellerAct.AskSize: text = AnswerSlot(f => f.Size, f => f.Size = true, s => s.Size == null ? "Any size is fine." : _rng.Pick(new[] { "Make it {0}.", "{0}, please.", "I'll take {0}." }).Replace("{0}", _real.Word(EntityKind.Size, s.Size))); progress = !_redundantFlag; break;
            case SellerAct.AskToppings: text = AnswerSlot(f => f.Toppings, f => f.Toppings = true, s => _real.ToppingsAnswer(s) is { Length: > 0 } t ? t + "." : "Just plain, nothing special."); progress = !_redundantFlag; break;
            case SellerAct.AskCrust:
                text = AnswerSlot(f => f.Crust, f => f.Crust = true, s =>
                {
                    var c = s.Styles.Where(x => !x.Negated && Menu.CrustStyles.Contains(x.Canonical)).Select(x => _real.Word(EntityKind.Style, x.Canonical)).ToList();
                    return c.Count > 0 ? string.Join(" ", c) + ", please." : "The usual crust is fine.";
                });
                progress = !_redundantFlag;
                break;
            case SellerAct.AskDrinks:
                if (_drinksRevealed) { text = _rng.Pick(s_redundant); annoyed = true; }
                else
                {
                    _drinksRevealed = progress = true;
                    var drinks = _goal.Order.Drinks.Select(d => _real.Item(d)).ToList();
                    text = drinks.Count == 0 ? "No drinks, thanks." : "Yes, " + string.Join(" and ", drinks) + ".";
                }
                break;
            case SellerAct.AskAnythingElse:
                if (!_drinksRevealed && _goal.Order.Drinks.Any()) { _drinksRevealed = progress = true; text = "Yes, also " + string.Join(" and ", _goal.Order.Drinks.Select(d => _real.Item(d))) + "."; }
                else { annoyed = _saidAllSet; _saidAllSet = true; text = "No, that's all."; }
                break;
            case SellerAct.AskFulfillment:
                if (_fulfillmentRevealed) { text = _rng.Pick(s_redundant); annoyed = true; }
                else { _fulfillmentRevealed = progress = true; text = _goal.Fulfillment == "DELIVERY" ? _rng.Pick(new[] { "Delivery, please.", "Please deliver it." }) : _rng.Pick(new[] { "Pickup, please.", "I'll pick it up." }); }
                break;
            case SellerAct.AskName:
                if (_nameRevealed) { text = _rng.Pick(s_redundant); annoyed = true; }
                else { _nameRevealed = progress = true; text = _rng.Pick(new[] { "It's {0}.", "My name is {0}.", "Put it under {0}.", "{0}." }).Replace("{0}", _goal.Name); }
                break;
            case SellerAct.Confirm:
                if (GoalMatches(st))
                {
                    annoyed = _confirmedKey == st.Key();
                    progress = !annoyed;
                    _confirmedKey = st.Key();
                    text = annoyed ? "Yes, I already said so." : _rng.Pick(new[] { "Yes, that's right.", "Yes, perfect.", "Yep, that's correct." });
                }
                else
                {
                    annoyed = ++_wrongConfirms > 2;
                    _lastWasCorrection = true;
                    _confirmedKey = null;
                    foreach (var f in _revealed) f.Number = f.Size = f.Toppings = f.Crust = true;
                    _drinksRevealed = _fulfillmentRevealed = _nameRevealed = true;
                    string order = _real.OrderText(_goal.Order);
                    text = $"No, that's not right. I want {order} for {(_goal.Fulfillment == "DELIVERY" ? "delivery" : "pickup")}, and my name is {_goal.Name}.";
                }
                break;
            case SellerAct.StateTotal:
                annoyed = _totalHeard;
                progress = !annoyed;
                _totalHeard = true;
                text = annoyed ? "You told me the total already." : "Okay, sounds good.";
                break;
            case SellerAct.PlaceOrder:
                {
                    bool ok = GoalMatches(st) && _confirmedKey == st.Key() && _totalHeard;
                    return new CustomerReply(ok ? "Great, thank you so much!" : "Wait, that's not what I wanted. Never mind.", true, false, ok, ok ? 1 : -1);
                }
            case SellerAct.UpsellDrink:
                annoyed = _upsoldDrink;
                _upsoldDrink = true;
                if (!annoyed && _rng.Chance(_goal.Persona.UpsellAcceptance) && !_goal.Order.Drinks.Any(d => d.DrinkType == "COKE" && d.Volume == "2,LITER"))
                {
                    _goal.Order.Items.Add(new SubOrder { IsDrink = true, DrinkType = "COKE", Volume = "2,LITER", Number = 1 });
                    _revealed.Add(new ItemFlags { Number = true, Size = true, Toppings = true, Crust = true });
                    text = "Sure, add a 2 liter coke.";
                    progress = true;
                }
                else text = "No thanks.";
                break;
            case SellerAct.UpsellCheese:
                {
                    annoyed = _upsoldCheese;
                    _upsoldCheese = true;
                    var first = _goal.Order.Pizzas.FirstOrDefault();
                    if (!annoyed && first != null && !first.Toppings.Any(t => t.Canonical == "CHEESE") && _rng.Chance(_goal.Persona.UpsellAcceptance))
                    {
                        first.Toppings.Add(new ToppingSpec("CHEESE", "EXTRA"));
                        text = "Yes, add extra cheese.";
                        progress = true;
                    }
                    else text = "No thanks.";
                    break;
                }
            case SellerAct.Apologize:
                annoyed = !wasCorrection;
                text = wasCorrection ? "No problem." : "Okay...?";
                break;
            case SellerAct.AskClarify:
                annoyed = _clarified; // the first request to repeat is fair, the next ones are not
                _clarified = true;
                text = _last;
                break;
            case SellerAct.Goodbye:
                return new CustomerReply("Oh... okay, bye.", true, false, false, -1);
            case SellerAct.Greet:
                annoyed = true;
                text = "Hi. I'm trying to order.";
                break;
            default: // MenuInfo, Distractor
                annoyed = true;
                text = _rng.Pick(s_irritated);
                break;
        }
        if (_redundantFlag) { annoyed = true; _redundantFlag = false; }
        if (annoyed && --Patience <= 0)
            return new CustomerReply("Forget it, I'll order somewhere else.", true, true, false, -1);
        text = text!.Length > 0 ? char.ToUpperInvariant(text[0]) + text[1..] : text;
        _last = text;
        return new CustomerReply(text, false, false, false, annoyed ? -1 : progress ? 1 : 0);
    }

    bool _clarified;

    // Answers about the first pizza whose slot the customer has not yet given; a question nobody needs is redundant.
    string AnswerSlot(Func<ItemFlags, bool> given, Action<ItemFlags> give, Func<SubOrder, string> answer)
    {
        for (int i = 0; i < _goal.Order.Items.Count; i++)
        {
            var s = _goal.Order.Items[i];
            if (s.IsDrink || given(_revealed[i])) continue;
            give(_revealed[i]);
            return answer(s);
        }
        _redundantFlag = true;
        return _rng.Pick(s_redundant);
    }

    bool _redundantFlag;
}
