// The seller's action catalog (30 responses): slot questions, confirm, total, place order, upsells, apologies,
// goodbye and irrelevant distractors. Responses that mention the order are filled from the tracker's state.
// Tested by tests/NanoMbpo.Tests/Dialog/EnvTests.cs.
using System.Globalization;

namespace NanoMbpo.Dialog;

/// <summary>What a seller action does (several catalog entries may share a type).</summary>
public enum SellerAct
{
    Greet, AskNumber, AskSize, AskToppings, AskCrust, AskDrinks, AskFulfillment, AskName, Confirm, StateTotal,
    PlaceOrder, UpsellDrink, UpsellCheese, Apologize, AskClarify, AskAnythingElse, Goodbye, MenuInfo, Distractor,
}

/// <summary>One catalog entry: its act and its text template ({order}, {total}, {name} are filled in).</summary>
public sealed record SellerAction(int Id, SellerAct Act, string Template);

public static class SellerActions
{
    public static readonly IReadOnlyList<SellerAction> All = Build();

    static IReadOnlyList<SellerAction> Build()
    {
        var list = new List<(SellerAct, string)>
        {
            (SellerAct.Greet, "Hi there, welcome to KinPizza! What would you like to order?"),
            (SellerAct.AskNumber, "How many pizzas would you like?"),
            (SellerAct.AskNumber, "How many of those should I make?"),
            (SellerAct.AskSize, "What size would you like for that pizza?"),
            (SellerAct.AskSize, "Small, medium or large?"),
            (SellerAct.AskToppings, "What toppings would you like on it?"),
            (SellerAct.AskCrust, "Which crust would you like?"),
            (SellerAct.AskDrinks, "Would you like anything to drink with that?"),
            (SellerAct.AskFulfillment, "Is this for pickup or delivery?"),
            (SellerAct.AskName, "Can I get a name for the order?"),
            (SellerAct.Confirm, "Let me confirm: {order}, for {fulfillment}, under the name {name}. Is that right?"),
            (SellerAct.Confirm, "So that's {order}. Did I get that right?"),
            (SellerAct.StateTotal, "Your total comes to ${total}."),
            (SellerAct.PlaceOrder, "Great, I've placed your order. Thank you!"),
            (SellerAct.UpsellDrink, "Would you like to add a 2 liter coke for $3.49?"),
            (SellerAct.UpsellCheese, "Can I add extra cheese to your pizza for just a dollar?"),
            (SellerAct.Apologize, "I'm so sorry about that."),
            (SellerAct.AskClarify, "Sorry, could you repeat that?"),
            (SellerAct.AskAnythingElse, "Is there anything else I can get you?"),
            (SellerAct.Goodbye, "Thanks for calling KinPizza, goodbye!"),
            (SellerAct.MenuInfo, "We have small, medium and large pizzas with lots of toppings."),
            (SellerAct.MenuInfo, "Our special today is the meat lovers pizza."),
            (SellerAct.Distractor, "Hello lovely."),
            (SellerAct.Distractor, "Nice weather today, isn't it?"),
            (SellerAct.Distractor, "Did you know KinPizza opened in 1998?"),
            (SellerAct.Distractor, "Hold on a second."),
            (SellerAct.Distractor, "Hmm."),
            (SellerAct.Distractor, "I really like your voice."),
            (SellerAct.Distractor, "Our ovens are wood fired."),
            (SellerAct.Distractor, "Have you seen the game last night?"),
        };
        return list.Select((x, i) => new SellerAction(i, x.Item1, x.Item2)).ToList();
    }

    public static int Count => All.Count;

    /// <summary>The first catalog action with a given act (what the rule-based expert uses).</summary>
    public static int IdOf(SellerAct act) => All.First(a => a.Act == act).Id;

    static readonly System.Text.RegularExpressions.Regex[] Patterns = All.Select(a => new System.Text.RegularExpressions.Regex(
        "^" + System.Text.RegularExpressions.Regex.Escape(a.Template).Replace(@"\{order}", "(.+?)").Replace(@"\{fulfillment}", "(.+?)")
            .Replace(@"\{name}", "(.+?)").Replace(@"\{total}", "(.+?)") + "$", System.Text.RegularExpressions.RegexOptions.Singleline)).ToArray();

    /// <summary>The catalog action whose template renders to <paramref name="text"/> (a corpus's seller turn back
    /// to its action id), or −1 when none does. A template without placeholders wins over one that only matches
    /// through a placeholder.</summary>
    public static int Identify(string text)
    {
        int found = -1;
        for (int i = 0; i < All.Count; i++)
        {
            if (All[i].Template == text) return i;
            if (found < 0 && Patterns[i].IsMatch(text)) found = i;
        }
        return found;
    }

    /// <summary>Fills an action's template from the tracker's state.</summary>
    public static string Render(SellerAction a, DialogState state, Realiser realiser)
    {
        if (!a.Template.Contains('{')) return a.Template;
        return a.Template
            .Replace("{order}", realiser.OrderText(state.Order))
            .Replace("{fulfillment}", state.Fulfillment == "DELIVERY" ? "delivery" : state.Fulfillment == "PICKUP" ? "pickup" : "pickup or delivery")
            .Replace("{name}", state.Name ?? "unknown")
            .Replace("{total}", Menu.Total(state.Order).ToString("0.00", CultureInfo.InvariantCulture));
    }
}
