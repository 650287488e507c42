// The KinPizza environment end to end: expert >= 95% and random <= 10% success on 1000 seeded episodes,
// determinism per seed, greeting, hang-ups on distractors, corrections of wrong confirmations, odd customer
// text, and the task reward. Run: dotnet test --filter "FullyQualifiedName~Dialog.EnvTests".
using NanoMbpo.Dialog;
using Xunit;

namespace NanoMbpo.Tests.Dialog;

public class EnvTests
{
    [Fact]
    public void ExpertSucceedsAndRandomFailsOn1000Episodes()
    {
        var rule = Evaluation.Run(new RulePolicy(), 1000, seed: 11);
        var random = Evaluation.Run(new RandomPolicy(), 1000, seed: 11);
        Assert.True(rule.Success.Mean >= 0.95, $"expert success {rule.Success.Mean}");
        Assert.True(random.Success.Mean <= 0.10, $"random success {random.Success.Mean}");
        Assert.True(rule.SlotF1.Mean > random.SlotF1.Mean);
        Assert.True(rule.Return.Mean > random.Return.Mean);
        Assert.True(rule.Success.Low <= rule.Success.Mean && rule.Success.Mean <= rule.Success.High);
    }

    [SharedDataFact("pizza/PIZZA_dev.json")]
    public void ExpertSucceedsOnRealPizzaGoals()
    {
        var goals = PizzaFile.Read(SharedData.Find("pizza/PIZZA_dev.json")!);
        var rule = Evaluation.Run(new RulePolicy(), 500, seed: 3, goals: goals);
        Assert.True(rule.Success.Mean >= 0.95, $"expert success {rule.Success.Mean}");
    }

    [Fact]
    public void SameSeedSameEpisode()
    {
        static List<string> Play(ulong seed)
        {
            var env = new KinPizzaEnv();
            env.Reset(seed);
            var pol = new RulePolicy(0.3);
            var rng = new DialogRng(seed);
            StepResult r;
            do r = env.Step(pol.Act(env, rng)); while (!r.Done);
            return env.History.Select(u => u.Speaker + ":" + u.Text).Append(env.Goal.ToString()).ToList();
        }
        Assert.Equal(Play(5), Play(5));
        Assert.NotEqual(Play(5), Play(6));
    }

    [Fact]
    public void ResetGreetsAndRevealsPartOfTheGoal()
    {
        var env = new KinPizzaEnv();
        var first = env.Reset(1);
        Assert.Equal("I'm KinPizza chatbot, what can I help you with", first.Greeting);
        Assert.False(string.IsNullOrWhiteSpace(first.CustomerText));
        Assert.Equal(2, env.History.Count);
        Assert.Equal(Speaker.Seller, env.History[0].Speaker);
        Assert.Contains("(ORDER (PIZZAORDER", env.Goal.ToExr());
    }

    [Fact]
    public void DistractorsExhaustPatienceAndTheCustomerHangsUp()
    {
        var env = new KinPizzaEnv();
        env.Reset(2);
        int hello = SellerActions.All.First(a => a.Template == "Hello lovely.").Id;
        StepResult r;
        int steps = 0;
        do { r = env.Step(hello); steps++; } while (!r.Done);
        Assert.True(r.Info.HungUp);
        Assert.False(r.Info.Success);
        Assert.Equal(env.Goal.Persona.Patience, steps);
        Assert.Equal(-1 - env.MaxTurns, r.Reward);
        Assert.Throws<InvalidOperationException>(() => env.Step(hello));
    }

    [Fact]
    public void WrongConfirmationIsCorrectedAndTheTrackerRecovers()
    {
        var env = new KinPizzaEnv();
        var goal = new CustomerGoal
        {
            Order = Exr.Parse("(ORDER (PIZZAORDER (NUMBER 2 ) (SIZE LARGE ) (TOPPING HAM ) (NOT (TOPPING ONIONS ) ) ) )"),
            Fulfillment = "DELIVERY", Name = "Omar", OpeningText = "hi can i get two large ham pizzas", Persona = CustomerGoal.Personas[0],
        };
        env.Reset(4, goal);
        var r = env.Step(SellerActions.IdOf(SellerAct.Confirm)); // confirms before knowing everything: wrong
        Assert.StartsWith("No", r.CustomerText);
        Assert.True(env.State.Order.ExactMatch(goal.Order), env.State.Order.ToExr());
        Assert.Equal("DELIVERY", env.State.Fulfillment);
        Assert.Equal("Omar", env.State.Name);
        r = env.Step(SellerActions.IdOf(SellerAct.Confirm));
        Assert.StartsWith("Y", r.CustomerText);
        env.Step(SellerActions.IdOf(SellerAct.StateTotal));
        r = env.Step(SellerActions.IdOf(SellerAct.PlaceOrder));
        Assert.True(r.Done && r.Info.Success && !r.Info.HungUp);
        Assert.Equal(1.0, r.Info.SlotF1);
        Assert.Equal(2.0 * env.MaxTurns - 1, r.Reward);
    }

    [Fact]
    public void GarbledOrEmptyCustomerLinesAreHandledTurns()
    {
        var env = new KinPizzaEnv();
        foreach (var opening in new[] { "", "#@!% zzzz qqq", "\u2603\u2603\u2603" })
        {
            var goal = new CustomerGoal { Order = Exr.Parse("(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE SMALL ) (TOPPING BACON ) ) )"), OpeningText = opening };
            env.Reset(9, goal);
            var pol = new RulePolicy();
            StepResult r;
            do r = env.Step(pol.Act(env, new DialogRng(1))); while (!r.Done);
            Assert.True(r.Info.Success, string.Join("\n", env.History.Select(u => u.Text)));
        }
    }

    [Fact]
    public void UpsellsAreTakenOrDeclinedByPersona()
    {
        int accepted = 0, declined = 0;
        var env = new KinPizzaEnv();
        for (ulong s = 0; s < 200; s++)
        {
            env.Reset(s);
            int before = env.Goal.Order.Items.Count;
            var r = env.Step(SellerActions.IdOf(SellerAct.UpsellDrink));
            if (r.CustomerText.StartsWith("Sure")) { accepted++; Assert.Equal(before + 1, env.Goal.Order.Items.Count); Assert.Contains(env.State.Order.Drinks, d => d.Volume == "2,LITER"); }
            else declined++;
        }
        Assert.True(accepted > 10 && declined > 10, $"accepted {accepted}, declined {declined}");
    }

    [Fact]
    public void ActionCatalogHas20To40ActionsWithDistractors()
    {
        Assert.InRange(SellerActions.Count, 20, 40);
        Assert.Contains(SellerActions.All, a => a.Template == "Hello lovely." && a.Act == SellerAct.Distractor);
        foreach (SellerAct act in Enum.GetValues<SellerAct>()) Assert.Contains(SellerActions.All, a => a.Act == act);
    }

    [Fact]
    public void PricesFollowTaskmaster()
    {
        var o = Exr.Parse("(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE SMALL ) ) (PIZZAORDER (NUMBER 2 ) (SIZE MEDIUM ) ) (PIZZAORDER (NUMBER 1 ) (SIZE LARGE ) ) )");
        Assert.Equal(12.99m + 2 * 18.99m + 23.99m, Menu.Total(o));
        var t = Exr.Parse("(ORDER (PIZZAORDER (NUMBER 1 ) (SIZE LARGE ) (TOPPING HAM ) (NOT (TOPPING ONIONS ) ) ) )");
        Assert.Equal(23.99m + Menu.ToppingPrice, Menu.Total(t));
    }

    [Fact]
    public void TaskRewardIsConvLabStyle()
    {
        var r = new TaskReward(20);
        var h = new List<Utterance>();
        Assert.Equal(-1, r.Reward(new RewardContext(h, "a", "b", false, false, false)));
        Assert.Equal(39, r.Reward(new RewardContext(h, "a", "b", true, true, false)));
        Assert.Equal(-21, r.Reward(new RewardContext(h, "a", "b", true, false, true)));
    }
}
