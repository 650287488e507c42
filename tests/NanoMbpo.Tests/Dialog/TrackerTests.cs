// State tracker accuracy: the PIZZA dev set (>= 98% exact match, embedded and shared catalogs), hand-written
// sentences that are not in the dev set (negation scope, quantities, number words, synonyms, plurals, drinks),
// odd text, and the realise -> parse round trip. Run: dotnet test --filter "FullyQualifiedName~Dialog.TrackerTests".
using NanoMbpo.Dialog;
using Xunit;

namespace NanoMbpo.Tests.Dialog;

public class TrackerTests
{
    static readonly OrderParser Parser = new();

    static double DevExactMatch(Menu menu)
    {
        var records = PizzaFile.Read(SharedData.Find("pizza/PIZZA_dev.json")!);
        Assert.Equal(348, records.Count);
        var parser = new OrderParser(menu);
        return records.Count(r => parser.Parse(r.Src).ExactMatch(r.Order)) / (double)records.Count;
    }

    [SharedDataFact("pizza/PIZZA_dev.json")]
    public void DevExactMatchWithEmbeddedCatalogs() => Assert.True(DevExactMatch(Menu.Default) >= 0.98);

    [SharedDataFact("pizza/catalogs", "pizza/PIZZA_dev.json")]
    public void DevExactMatchWithSharedCatalogs()
    {
        var menu = Menu.LoadCatalogDirectory(SharedData.Find("pizza/catalogs")!);
        Assert.True(DevExactMatch(menu) >= 0.98);
    }

    [Theory]
    [InlineData("i want a large pizza with no onions or peppers", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE LARGE ) (NOT (TOPPING ONIONS ) ) (NOT (TOPPING PEPPERS ) ) ) )")]
    [InlineData("Two medium pies, hold the anchovies, with lots of mushrooms", "(ORDER (PIZZAORDER (NUMBER 2 ) (SIZE MEDIUM ) (NOT (TOPPING ANCHOVIES ) ) (COMPLEX_TOPPING (QUANTITY EXTRA ) (TOPPING MUSHROOMS ) ) ) )")]
    [InlineData("could i have three small veggie pizzas light on the sauce", "(ORDER (PIZZAORDER (NUMBER 3 ) (SIZE SMALL ) (STYLE VEGETARIAN ) (COMPLEX_TOPPING (QUANTITY LIGHT ) (TOPPING SAUCE ) ) ) )")]
    [InlineData("give me a couple of extra large pizzas with a lot of cheese and jalapenos", "(ORDER (PIZZAORDER (NUMBER 2 ) (SIZE EXTRA_LARGE ) (COMPLEX_TOPPING (QUANTITY EXTRA ) (TOPPING CHEESE ) ) (TOPPING JALAPENO_PEPPERS ) ) )")]
    [InlineData("one large hawaiian pizza and one small pepperoni pizza", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE LARGE ) (STYLE HAWAIIAN ) ) (PIZZAORDER (NUMBER 1 ) (SIZE SMALL ) (TOPPING PEPPERONI ) ) )")]
    [InlineData("I'd like four 2 liter bottles of ginger ale and a can of diet pepsi", "(ORDER (DRINKORDER (DRINKTYPE GINGER_ALE ) (CONTAINERTYPE BOTTLE ) (NUMBER 4 ) (VOLUME 2 LITER ) ) (DRINKORDER (DRINKTYPE DIET_PEPSI ) (CONTAINERTYPE CAN ) (NUMBER 1 ) ) )")]
    [InlineData("a medium pie with tomatoes, avoid the mushrooms, and i don't want it on stuffed crust", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE MEDIUM ) (TOPPING TOMATOES ) (NOT (TOPPING MUSHROOMS ) ) (NOT (STYLE STUFFED_CRUST ) ) ) )")]
    [InlineData("i would like an extra large pizza with light cheese and extra pepperoni but no onions and peppers", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE EXTRA_LARGE ) (COMPLEX_TOPPING (QUANTITY LIGHT ) (TOPPING CHEESE ) ) (COMPLEX_TOPPING (QUANTITY EXTRA ) (TOPPING PEPPERONI ) ) (NOT (TOPPING ONIONS ) ) (NOT (TOPPING PEPPERS ) ) ) )")]
    [InlineData("i need four twenty ounce cokes and a medium supreme pizza", "(ORDER (DRINKORDER (DRINKTYPE COKE ) (NUMBER 4 ) (VOLUME 20 FLOZ ) ) (PIZZAORDER (NUMBER 1 ) (SIZE MEDIUM ) (STYLE SUPREME ) ) )")]
    [InlineData("twelve lunch size pizzas w/ chicken & spinach", "(ORDER (PIZZAORDER (NUMBER 12 ) (SIZE LUNCH_SIZE ) (TOPPING CHICKEN ) (TOPPING SPINACH ) ) )")]
    [InlineData("a large pepperoni pizza with a thin crust", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE LARGE ) (TOPPING PEPPERONI ) (STYLE THIN_CRUST ) ) )")]
    [InlineData("can i get a large pizza with pepperonni and mushrom", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE LARGE ) (TOPPING PEPPERONI ) (TOPPING MUSHROOMS ) ) )")]
    public void GeneralisesBeyondTheDevSet(string text, string exr) =>
        Assert.Equal(Exr.Parse(exr).Key(), Parser.Parse(text).Key());

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("asdkj qwe ;;; %%% ???")]
    [InlineData("no no no without hold the")]
    [InlineData("(((( )))) \u00e9\u00e8 \u2603 12345678901234567890")]
    public void OddTextGivesAnEmptyOrderWithoutThrowing(string text) => Assert.Empty(Parser.Parse(text).Items);

    [Fact]
    public void RealisedGoalsParseBackExactly()
    {
        var realiser = new Realiser(Menu.Default);
        var rng = new DialogRng(7);
        for (int i = 0; i < 2000; i++)
        {
            var goal = CustomerGoal.Sample(Menu.Default, rng);
            string text = "I want " + realiser.OrderText(goal.Order);
            Assert.True(Parser.Parse(text).ExactMatch(goal.Order), $"{text}\n want {goal.ToExr()}\n got {Parser.Parse(text).ToExr()}");
        }
    }

    [Fact]
    public void TrackerFillsSlotsFromAnswersInContext()
    {
        var st = new DialogState();
        var tracker = new StateTracker(Parser);
        tracker.Update(st, null, "hi, i'd like some pizza with ham");
        Assert.Single(st.Order.Items);
        tracker.Update(st, SellerAct.AskNumber, "Three, please.");
        tracker.Update(st, SellerAct.AskSize, "Make it large.");
        tracker.Update(st, SellerAct.AskCrust, "thin crust please");
        tracker.Update(st, SellerAct.AskDrinks, "Yes, two cans of coke.");
        tracker.Update(st, SellerAct.AskFulfillment, "I'll pick it up.");
        tracker.Update(st, SellerAct.AskName, "My name is Priya.");
        var want = Exr.Parse("(ORDER (PIZZAORDER (NUMBER 3 ) (SIZE LARGE ) (STYLE THIN_CRUST ) (TOPPING HAM ) ) (DRINKORDER (NUMBER 2 ) (CONTAINERTYPE CAN ) (DRINKTYPE COKE ) ) )");
        Assert.True(st.Order.ExactMatch(want), st.Order.ToExr());
        Assert.Equal("PICKUP", st.Fulfillment);
        Assert.Equal("Priya", st.Name);
        // garbled answers are handled turns: nothing changes, nothing throws
        tracker.Update(st, SellerAct.AskSize, "\u2603\u2603 ;;");
        tracker.Update(st, SellerAct.Confirm, "");
        Assert.True(st.Order.ExactMatch(want));
    }
}
