// Reference seller policies: uniform random, and a rule-based expert that asks for each missing slot, confirms,
// states the total and places the order (with optional epsilon exploration noise for corpus generation).
// Tested by tests/NanoMbpo.Tests/Dialog/EnvTests.cs (expert >= 95% success, random <= 10%).
namespace NanoMbpo.Dialog;

public interface IDialogPolicy
{
    string Name { get; }
    /// <summary>Picks a seller action id for the environment's current state.</summary>
    int Act(KinPizzaEnv env, DialogRng rng);
}

public sealed class RandomPolicy : IDialogPolicy
{
    public string Name => "random";
    public int Act(KinPizzaEnv env, DialogRng rng) => rng.Next(KinPizzaEnv.ActionCount);
}

public sealed class RulePolicy : IDialogPolicy
{
    public double Epsilon { get; }
    public RulePolicy(double epsilon = 0.0)
    {
        if (epsilon is < 0 or > 1 || double.IsNaN(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "expected a probability in [0, 1]");
        Epsilon = epsilon;
    }

    public string Name => Epsilon > 0 ? $"rule(eps={Epsilon})" : "rule";

    public int Act(KinPizzaEnv env, DialogRng rng)
    {
        if (Epsilon > 0 && rng.Chance(Epsilon)) return rng.Next(KinPizzaEnv.ActionCount);
        return SellerActions.IdOf(Choose(env.State));
    }

    /// <summary>The expert's next act from the tracker state alone (never the hidden goal).</summary>
    public static SellerAct Choose(DialogState st)
    {
        // Nothing understood: ask once to repeat, then confirm the empty order so the customer restates it.
        if (st.Order.Items.Count == 0) return st.ClarifyCount == 0 ? SellerAct.AskClarify : SellerAct.Confirm;
        if (st.FirstOpen(f => f.Number) >= 0) return SellerAct.AskNumber;
        if (st.FirstOpen(f => f.Size) >= 0) return SellerAct.AskSize;
        if (st.FirstOpen(f => f.Toppings) >= 0) return SellerAct.AskToppings;
        if (st.FirstOpen(f => f.Crust) >= 0) return SellerAct.AskCrust;
        if (!st.DrinksResolved) return SellerAct.AskDrinks;
        if (st.Fulfillment == null) return SellerAct.AskFulfillment;
        if (st.Name == null) return SellerAct.AskName;
        if (!st.Confirmed) return SellerAct.Confirm;
        if (!st.TotalStated) return SellerAct.StateTotal;
        return SellerAct.PlaceOrder;
    }
}
