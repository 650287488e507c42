// Catalog and PIZZA file loading: embedded catalogs, the shared catalog folder, EXR round trips, and clear
// errors (file, line, what was expected) for bad input. Run: dotnet test --filter "FullyQualifiedName~Dialog.FileFormatTests".
using NanoMbpo.Dialog;
using Xunit;

namespace NanoMbpo.Tests.Dialog;

public class FileFormatTests
{
    [Fact]
    public void EmbeddedCatalogsCoverEveryKind()
    {
        var m = Menu.Default;
        foreach (EntityKind k in Enum.GetValues<EntityKind>()) Assert.NotEmpty(m.Canonicals(k));
        Assert.Contains("EXTRA_LARGE", m.Canonicals(EntityKind.Size));
        Assert.True(m.Canonicals(EntityKind.Topping).Count >= 60);
    }

    [SharedDataFact("pizza/catalogs")]
    public void LoadsTheSharedCatalogFolder()
    {
        var m = Menu.LoadCatalogDirectory(SharedData.Find("pizza/catalogs")!);
        Assert.Contains("PEPPERONI", m.Canonicals(EntityKind.Topping));
        Assert.Contains("SEVEN_UP", m.Canonicals(EntityKind.DrinkType));
    }

    [Fact]
    public void BadCatalogLinesNameFileAndLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => Menu.ParseCatalog(new StringReader("ham\ttopping(HAM)\nno tab here\n"), "t.txt"));
        Assert.Contains("t.txt:2", e.Message);
        Assert.Contains("tab", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Menu.ParseCatalog(new StringReader("ham\tflavour(HAM)\n"), "t.txt"));
        Assert.Contains("t.txt:1", e.Message);
        Assert.Contains("unknown entity kind", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Menu.ParseCatalog(new StringReader("ham\ttopping HAM\n"), "t.txt"));
        Assert.Contains("kind(CANONICAL)", e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => Menu.LoadCatalogDirectory(Path.Combine(Path.GetTempPath(), "no-such-catalogs-" + Guid.NewGuid())));
    }

    [Fact]
    public void BadPizzaFilesNameFileLineAndExpectation()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pizza-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "{\"dev.SRC\": \"a ham pizza\", \"dev.EXR\": \"(ORDER (PIZZAORDER (TOPPING HAM ) ) )\"}\n{not json\n");
            var e = Assert.Throws<InvalidDataException>(() => PizzaFile.Read(path));
            Assert.Contains(path + ":2", e.Message);
            Assert.Contains("JSON object", e.Message);
            File.WriteAllText(path, "{\"dev.SRC\": \"a ham pizza\"}\n");
            e = Assert.Throws<InvalidDataException>(() => PizzaFile.Read(path));
            Assert.Contains(":1", e.Message);
            Assert.Contains("EXR", e.Message);
            File.WriteAllText(path, "\n{\"dev.SRC\": \"a ham pizza\", \"dev.EXR\": \"(ORDER (PIZZAORDER (TOPPING HAM ) )\"}\n");
            e = Assert.Throws<InvalidDataException>(() => PizzaFile.Read(path));
            Assert.Contains(":2", e.Message);
            Assert.Contains("missing ')'", e.Message);
            File.WriteAllText(path, "{\"train.SRC\": \"a ham pizza\", \"train.EXR\": \"(ORDER (PIZZAORDER (SPICE HAM ) ) )\"}\n");
            e = Assert.Throws<InvalidDataException>(() => PizzaFile.Read(path));
            Assert.Contains("unknown EXR constructor 'SPICE'", e.Message);
        }
        finally { File.Delete(path); }
    }

    [SharedDataFact("pizza/PIZZA_dev.json")]
    public void ExrRoundTripsThroughToExr()
    {
        foreach (var r in PizzaFile.Read(SharedData.Find("pizza/PIZZA_dev.json")!))
            Assert.Equal(r.Order.Key(), Exr.Parse(r.Order.ToExr()).Key());
    }

    [Fact]
    public void ExactMatchIsOrderInsensitive()
    {
        var a = Exr.Parse("(ORDER (PIZZAORDER (NUMBER 2 ) (TOPPING HAM ) (TOPPING BACON ) ) (DRINKORDER (DRINKTYPE COKE ) ) )");
        var b = Exr.Parse("(ORDER (DRINKORDER (NUMBER 1 ) (DRINKTYPE COKE ) ) (PIZZAORDER (TOPPING BACON ) (NUMBER 2 ) (TOPPING HAM ) ) )");
        var c = Exr.Parse("(ORDER (PIZZAORDER (NUMBER 2 ) (TOPPING HAM ) (NOT (TOPPING BACON ) ) ) (DRINKORDER (DRINKTYPE COKE ) ) )");
        Assert.True(a.ExactMatch(b));
        Assert.False(a.ExactMatch(c));
        Assert.Equal(1.0, Order.SlotF1(a.Slots(), b.Slots()));
        // c negates one of a's n slots (BACON) and keeps the rest: n − 1 hits out of n + n slots.
        int n = a.Slots().Count;
        Assert.Equal(n, c.Slots().Count);
        Assert.Equal(n - 1, a.Slots().Intersect(c.Slots()).Count());
        Assert.Equal(2.0 * (n - 1) / (2 * n), Order.SlotF1(a.Slots(), c.Slots()), 12);
        // Multisets: a repeated prediction counts once per gold copy, 2·1 / (3 + 2).
        Assert.Equal(0.4, Order.SlotF1(["PIZZA/A", "PIZZA/B", "PIZZA/B"], ["PIZZA/B", "PIZZA/C"]), 12);
        Assert.Equal(0.0, Order.SlotF1(["PIZZA/A"], []));
        Assert.Equal(1.0, Order.SlotF1([], []));
    }
}
