// Turns KinPizza episodes (the rule expert with epsilon exploration noise against the customer simulator) into
// Taskmaster-1 dialogs: the env's greeting and the customer's opening line first, then one ASSISTANT/USER pair
// per step; each ASSISTANT utterance the policy chose carries the step's reward (the fixed greeting carries none,
// so the stored rewards sum to the episode return); the goal is stored as its EXR string and the outcome
// (success, seller turns, hang-up, final slot F1). Segments mark the entities the state tracker's parser uses in
// each utterance, with Taskmaster pizza_ordering names (see AnnotationName). Episode i uses seed
// DialogRng.Derive(seed, i), as `nanombpo eval` does, so the same seed gives the same bytes.
// Used by `nanombpo corpus`. Test: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~Dialog.CorpusTests"
namespace NanoMbpo.Dialog.Corpus;

/// <summary>Running counts of a generated corpus (for the command's summary line).</summary>
public sealed class CorpusStats
{
    public int Dialogs { get; private set; }
    public int Successes { get; private set; }
    public int HangUps { get; private set; }
    public long SellerTurns { get; private set; }

    public double SuccessRate => Dialogs == 0 ? 0 : (double)Successes / Dialogs;
    public double AvgTurns => Dialogs == 0 ? 0 : (double)SellerTurns / Dialogs;

    public void Add(TaskmasterOutcome o)
    {
        Dialogs++;
        if (o.Success) Successes++;
        if (o.Hangup) HangUps++;
        SellerTurns += o.Turns;
    }
}

public sealed class CorpusGenerator
{
    /// <summary>The <c>instruction_id</c> of every generated dialog (Taskmaster-1 style: <c>pizza-ordering-*</c>).</summary>
    public const string InstructionId = "pizza-ordering-kinpizza";

    readonly KinPizzaEnv _env;
    readonly OrderParser _parser;
    readonly IDialogPolicy _policy;

    /// <param name="epsilon">Probability that the expert takes a uniformly random action instead (exploration noise).</param>
    /// <param name="goals">PIZZA records to draw goals from; null samples goals from the menu.</param>
    public CorpusGenerator(double epsilon = 0.1, Menu? menu = null, IReadOnlyList<PizzaRecord>? goals = null, int maxTurns = 20)
    {
        var m = menu ?? Menu.Default;
        _policy = new RulePolicy(epsilon); // validates epsilon
        _env = new KinPizzaEnv(m, goals: goals, maxTurns: maxTurns);
        _parser = new OrderParser(m);
    }

    public string PolicyName => _policy.Name;

    /// <summary>Dialogs 0..count-1 of a run, lazily (stream them into TaskmasterWriter for flat memory).</summary>
    public IEnumerable<TaskmasterDialog> Generate(int count, ulong seed)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "expected a non-negative number of dialogs");
        for (int i = 0; i < count; i++) yield return GenerateOne(seed, i);
    }

    /// <summary>Dialog <paramref name="index"/> of the run started with <paramref name="seed"/>.</summary>
    public TaskmasterDialog GenerateOne(ulong seed, int index)
    {
        ulong epSeed = DialogRng.Derive(seed, (ulong)index);
        var reset = _env.Reset(epSeed);
        var prng = new DialogRng(epSeed ^ 0x5EED5EED5EED5EEDUL); // the same policy stream as Evaluation.Run
        string goal = _env.Goal.ToExr(); // read now: the goal is hidden from the policy, not from the corpus
        var utterances = new List<TaskmasterUtterance>
        {
            Utter(0, Speaker.Seller, reset.Greeting, null),
            Utter(1, Speaker.Customer, reset.CustomerText, null),
        };
        StepResult r;
        do
        {
            r = _env.Step(_policy.Act(_env, prng));
            utterances.Add(Utter(utterances.Count, Speaker.Seller, r.Info.SellerText, r.Reward));
            utterances.Add(Utter(utterances.Count, Speaker.Customer, r.CustomerText, null));
        } while (!r.Done);
        return new TaskmasterDialog($"kinpizza-{seed}-{index:D6}", InstructionId, utterances)
        {
            Goal = goal,
            Outcome = new TaskmasterOutcome(r.Info.Success, r.Info.Turns, r.Info.HungUp) { SlotF1 = Math.Round(r.Info.SlotF1, 6) },
        };
    }

    TaskmasterUtterance Utter(int index, Speaker speaker, string text, double? reward) =>
        new(index, speaker, text) { Segments = Segments(_parser, text), Reward = reward };

    /// <summary>Segments for the entities the parser uses in <paramref name="text"/>, one annotation each.</summary>
    public static List<TaskmasterSegment> Segments(OrderParser parser, string text) =>
        parser.Mentions(text)
            .Select(m => new TaskmasterSegment(m.Start, m.End, text[m.Start..m.End], [new TaskmasterAnnotation(AnnotationName(m))]))
            .ToList();

    /// <summary>
    /// Taskmaster-1 pizza_ordering slot names (name.pizza, size.pizza, type.crust, type.topping, preference), with
    /// the ".reject" suffix Taskmaster uses for refused values on negated ones ("no onions"). Numbers and drinks
    /// have no pizza_ordering slot; we name them in the same scheme (num.pizza, and num/name/size.drink after
    /// coffee_ordering, type.container, volume.drink).
    /// </summary>
    public static string AnnotationName(EntityMention m)
    {
        string slot = m.Kind switch
        {
            EntityKind.Number => m.InDrink ? "num.drink" : "num.pizza",
            EntityKind.Size => m.InDrink ? "size.drink" : "size.pizza",
            EntityKind.Style => Menu.CrustStyles.Contains(m.Canonical) ? "type.crust" : "name.pizza",
            EntityKind.Topping => "type.topping",
            EntityKind.Quantity => "preference",
            EntityKind.DrinkType => "name.drink",
            EntityKind.ContainerType => "type.container",
            EntityKind.Volume => "volume.drink",
            _ => "other",
        };
        return "pizza_ordering." + slot + (m.Negated ? ".reject" : "");
    }
}
