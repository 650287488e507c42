// State tracker on our own held-out orders (Dialog/Data/heldout_orders.jsonl: 201 PIZZA-format orders written for
// this project, none copied from the PIZZA dev set) and on the general rules they led to: PIZZA-style quantity
// phrases, decimal and spoken-decimal volumes, "another", noun sizes ("party", "lunch") only before a pizza phrase,
// a distributive size ("both large").
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~Dialog.HeldOutTrackerTests"
using NanoMbpo.Dialog;
using Xunit;

namespace NanoMbpo.Tests.Dialog;

public class HeldOutTrackerTests
{
    static readonly OrderParser Parser = new();

    [Fact]
    public void HeldOutOrdersExactMatchAtLeast95Percent()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Dialog", "Data", "heldout_orders.jsonl");
        Assert.True(File.Exists(path), $"missing test data {path} (copied from tests/NanoMbpo.Tests/Dialog/Data)");
        var records = PizzaFile.Read(path);
        Assert.True(records.Count >= 150, $"expected >= 150 held-out orders, found {records.Count}");
        var misses = records.Where(r => !Parser.Parse(r.Src).ExactMatch(r.Order)).ToList();
        double rate = 1.0 - misses.Count / (double)records.Count;
        Assert.True(rate >= 0.95, $"held-out exact match {rate:P2}; misses:\n" +
            string.Join("\n", misses.Take(10).Select(m => $"{m.Src}\n  want {m.Order.ToExr()}\n  got  {Parser.Parse(m.Src).ToExr()}")));
    }

    [Theory]
    [InlineData("a pizza with ham for lunch", "(ORDER (PIZZAORDER (NUMBER 1 ) (TOPPING HAM ) ) )")]
    [InlineData("we're having a party so send three large pizzas with sausage", "(ORDER (PIZZAORDER (NUMBER 3 ) (SIZE LARGE ) (TOPPING SAUSAGE ) ) )")]
    [InlineData("four lunch pepperoni pizzas", "(ORDER (PIZZAORDER (NUMBER 4 ) (SIZE LUNCH_SIZE ) (TOPPING PEPPERONI ) ) )")]
    [InlineData("two 7.5 oz cans of coke", "(ORDER (DRINKORDER (NUMBER 2 ) (VOLUME 7.5 FLOZ ) (CONTAINERTYPE CAN ) (DRINKTYPE COKE ) ) )")]
    [InlineData("a twelve point five ounce sprite", "(ORDER (DRINKORDER (NUMBER 1 ) (VOLUME 12.5 FLOZ ) (DRINKTYPE SPRITE ) ) )")]
    [InlineData("one and a half liter of water", "(ORDER (DRINKORDER (NUMBER 1 ) (VOLUME 1.5 LITER ) (DRINKTYPE WATER ) ) )")]
    [InlineData("a large with sausage and another with peppers", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE LARGE ) (TOPPING SAUSAGE ) ) (PIZZAORDER (NUMBER 1 ) (TOPPING PEPPERS ) ) )")]
    [InlineData("a medium pizza with a tiny bit of oregano and a whole lot of onions", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE MEDIUM ) (COMPLEX_TOPPING (QUANTITY LIGHT ) (TOPPING OREGANO ) ) (COMPLEX_TOPPING (QUANTITY EXTRA ) (TOPPING ONIONS ) ) ) )")]
    [InlineData("a large pizza with everything and that's everything", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE LARGE ) (STYLE ALL_TOPPINGS ) ) )")]
    [InlineData("a pepperoni pizza and a mushroom pizza, both medium", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE MEDIUM ) (TOPPING PEPPERONI ) ) (PIZZAORDER (NUMBER 1 ) (SIZE MEDIUM ) (TOPPING MUSHROOMS ) ) )")]
    [InlineData("a small pizza with fresh mozzarella", "(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE SMALL ) (TOPPING MOZZARELLA_CHEESE ) ) )")]
    public void GeneralRulesFromTheHeldOutSet(string text, string exr) =>
        Assert.Equal(Exr.Parse(exr).Key(), Parser.Parse(text).Key());
}
