// The simulator's satisfaction label (CustomerReply.Satisfaction, StepInfo.Satisfaction) in hand-picked
// situations: a first slot answer is +1, a redundant question -1, a distractor -1, a declined upsell 0, an
// accepted one +1, a correction after a wrong confirmation 0, a correct confirmation +1, the success reply +1,
// goodbye and hang-ups -1; and on random and noisy-expert episodes every label is in {-1, 0, +1} and agrees
// with the episode's ending. Run: dotnet test tests/NanoMbpo.Tests -c Release --filter "FullyQualifiedName~Dialog.SatisfactionTests".
using NanoMbpo.Dialog;
using Xunit;

namespace NanoMbpo.Tests.Dialog;

public class SatisfactionTests
{
    static int Id(SellerAct act) => SellerActions.IdOf(act);

    /// <summary>Two large ham pizzas for delivery for Omar: the opening gives number, size and toppings.</summary>
    static KinPizzaEnv Start(double upsellAcceptance = 0.0, int patience = 6)
    {
        var env = new KinPizzaEnv();
        var goal = new CustomerGoal
        {
            Order = Exr.Parse("(ORDER (PIZZAORDER (NUMBER 2 ) (SIZE LARGE ) (TOPPING HAM ) ) )"),
            Fulfillment = "DELIVERY", Name = "Omar", OpeningText = "hi can i get two large ham pizzas",
            Persona = new Persona("test", patience, upsellAcceptance, 0.0),
        };
        env.Reset(4, goal);
        return env;
    }

    [Fact]
    public void FirstAnswerIsPlusOneAndTheRedundantQuestionMinusOne()
    {
        var env = Start();
        var r = env.Step(Id(SellerAct.AskName));
        Assert.Equal(1, r.Info.Satisfaction);
        Assert.Contains("Omar", r.CustomerText);
        r = env.Step(Id(SellerAct.AskName));   // asked again
        Assert.Equal(-1, r.Info.Satisfaction);
        r = env.Step(Id(SellerAct.AskSize));   // the opening already said "large"
        Assert.Equal(-1, r.Info.Satisfaction);
        r = env.Step(Id(SellerAct.AskFulfillment));
        Assert.Equal(1, r.Info.Satisfaction);
    }

    [Fact]
    public void DistractorAndMidOrderGreetingAreMinusOne()
    {
        var env = Start();
        int hello = SellerActions.All.First(a => a.Template == "Hello lovely.").Id;
        Assert.Equal(-1, env.Step(hello).Info.Satisfaction);
        Assert.Equal(-1, env.Step(Id(SellerAct.Greet)).Info.Satisfaction);
        Assert.Equal(-1, env.Step(Id(SellerAct.MenuInfo)).Info.Satisfaction);
    }

    [Fact]
    public void DeclinedUpsellIsNeutralAcceptedUpsellIsPlusOneAndASecondOfferMinusOne()
    {
        var env = Start(upsellAcceptance: 0.0);
        var r = env.Step(Id(SellerAct.UpsellCheese));
        Assert.Equal("No thanks.", r.CustomerText);
        Assert.Equal(0, r.Info.Satisfaction);
        r = env.Step(Id(SellerAct.UpsellCheese));
        Assert.Equal("No thanks.", r.CustomerText);
        Assert.Equal(-1, r.Info.Satisfaction);

        env = Start(upsellAcceptance: 1.0);
        r = env.Step(Id(SellerAct.UpsellDrink));
        Assert.StartsWith("Sure", r.CustomerText);
        Assert.Equal(1, r.Info.Satisfaction);
    }

    [Fact]
    public void CorrectionIsNeutralThenConfirmTotalAndSuccessArePlusOne()
    {
        var env = Start();
        var r = env.Step(Id(SellerAct.Confirm));   // before name and fulfillment: wrong
        Assert.StartsWith("No, that's not right.", r.CustomerText);
        Assert.Equal(0, r.Info.Satisfaction);
        r = env.Step(Id(SellerAct.Apologize));     // after a correction: fair
        Assert.Equal("No problem.", r.CustomerText);
        Assert.Equal(0, r.Info.Satisfaction);
        r = env.Step(Id(SellerAct.Confirm));
        Assert.StartsWith("Y", r.CustomerText);
        Assert.Equal(1, r.Info.Satisfaction);
        Assert.Equal(1, env.Step(Id(SellerAct.StateTotal)).Info.Satisfaction);
        r = env.Step(Id(SellerAct.PlaceOrder));
        Assert.True(r.Info.Success);
        Assert.Equal(1, r.Info.Satisfaction);
    }

    [Fact]
    public void RepeatedTotalApologyForNothingGoodbyeAndFailedOrderAreMinusOne()
    {
        var env = Start();
        Assert.Equal(1, env.Step(Id(SellerAct.StateTotal)).Info.Satisfaction);
        Assert.Equal(-1, env.Step(Id(SellerAct.StateTotal)).Info.Satisfaction);
        Assert.Equal(-1, env.Step(Id(SellerAct.Apologize)).Info.Satisfaction);
        Assert.Equal(-1, env.Step(Id(SellerAct.Goodbye)).Info.Satisfaction);
        env = Start();
        var r = env.Step(Id(SellerAct.PlaceOrder));   // nothing confirmed
        Assert.False(r.Info.Success);
        Assert.Equal(-1, r.Info.Satisfaction);
    }

    [Fact]
    public void HangUpIsMinusOne()
    {
        var env = Start(patience: 2);
        int hmm = SellerActions.All.First(a => a.Template == "Hmm.").Id;
        Assert.Equal(-1, env.Step(hmm).Info.Satisfaction);
        var r = env.Step(hmm);
        Assert.True(r.Info.HungUp);
        Assert.Equal(-1, r.Info.Satisfaction);
    }

    [Fact]
    public void LabelsOnSeededEpisodesAreConsistentWithTheirEndings()
    {
        var counts = new Dictionary<int, int> { [-1] = 0, [0] = 0, [1] = 0 };
        var env = new KinPizzaEnv();
        IDialogPolicy[] policies = [new RandomPolicy(), new RulePolicy(0.3)];
        for (ulong s = 0; s < 200; s++)
        {
            env.Reset(s);
            var pol = policies[s % 2];
            var rng = new DialogRng(s + 77);
            StepResult r;
            do
            {
                r = env.Step(pol.Act(env, rng));
                Assert.InRange(r.Info.Satisfaction, -1, 1);
                counts[r.Info.Satisfaction]++;
                if (r.Info.HungUp) Assert.Equal(-1, r.Info.Satisfaction);
                if (r.Info.Success) Assert.Equal(1, r.Info.Satisfaction);
            } while (!r.Done);
            if (!r.Info.Success) Assert.Equal(-1, r.Info.Satisfaction);   // every non-success ending is a bad one
        }
        Assert.All(counts, kv => Assert.True(kv.Value >= 50, $"label {kv.Key}: {kv.Value} replies"));
    }
}
