// The Gym-like KinPizza environment: Reset(seed) greets and returns the customer's first line; Step(action)
// renders a seller action from the tracker state, lets the simulator reply, updates the tracker and scores
// the turn with a pluggable IRewardModel (task reward by default). Tested by tests/NanoMbpo.Tests/Dialog/EnvTests.cs.
namespace NanoMbpo.Dialog;

/// <summary>Per-step diagnostics. SlotF1 compares the tracker's order with the customer's goal. Satisfaction is the
/// simulator's hidden label of the customer's reply (+1 progress, 0 neutral, -1 annoyed or a bad ending; see
/// CustomerReply); data collection for the reply reward reads it, the seller must not.</summary>
public sealed record StepInfo(bool Success, int Turns, double SlotF1, bool HungUp, string SellerText, int Satisfaction);

public sealed record StepResult(string CustomerText, double Reward, bool Done, StepInfo Info);

/// <summary>The first observation: the seller's fixed greeting and the customer's opening line.</summary>
public sealed record ResetResult(string Greeting, string CustomerText);

public sealed class KinPizzaEnv
{
    public const string Greeting = "I'm KinPizza chatbot, what can I help you with";

    readonly Menu _menu;
    readonly OrderParser _parser;
    readonly StateTracker _tracker;
    readonly Realiser _realiser;
    readonly IReadOnlyList<PizzaRecord>? _goals;
    readonly List<Utterance> _history = new();
    CustomerSimulator? _sim;
    DialogRng _rng = new(0);
    SellerAct? _lastAct;

    public IRewardModel RewardModel { get; }
    public int MaxTurns { get; }
    public DialogState State { get; private set; } = new();
    public CustomerGoal Goal => _sim?.Goal ?? throw new InvalidOperationException("call Reset before reading the goal");
    public IReadOnlyList<Utterance> History => _history;
    public int Turns { get; private set; }
    public bool Done { get; private set; }
    public static int ActionCount => SellerActions.Count;

    /// <param name="goals">PIZZA records to draw goals from (their SRC becomes the opening line); null samples goals from the menu.</param>
    public KinPizzaEnv(Menu? menu = null, IRewardModel? reward = null, IReadOnlyList<PizzaRecord>? goals = null, int maxTurns = 20)
    {
        if (maxTurns < 1) throw new ArgumentOutOfRangeException(nameof(maxTurns), maxTurns, "expected at least 1 turn");
        if (goals is { Count: 0 }) throw new ArgumentException("expected at least one goal record", nameof(goals));
        _menu = menu ?? Menu.Default;
        _parser = new OrderParser(_menu);
        _tracker = new StateTracker(_parser);
        _realiser = new Realiser(_menu);
        _goals = goals;
        MaxTurns = maxTurns;
        RewardModel = reward ?? new TaskReward(maxTurns);
    }

    /// <summary>Starts an episode; same seed, same episode. A goal may be given explicitly.</summary>
    public ResetResult Reset(ulong seed, CustomerGoal? goal = null)
    {
        _rng = new DialogRng(seed);
        goal ??= _goals != null ? CustomerGoal.FromPizza(_goals[_rng.Next(_goals.Count)], _rng) : CustomerGoal.Sample(_menu, _rng);
        _sim = new CustomerSimulator(goal, _menu, _parser, _rng);
        State = new DialogState();
        _history.Clear();
        Turns = 0;
        Done = false;
        _lastAct = null;
        string opening = _sim.Opening();
        _history.Add(new Utterance(Speaker.Seller, Greeting));
        _history.Add(new Utterance(Speaker.Customer, opening));
        _tracker.Update(State, null, opening);
        return new ResetResult(Greeting, opening);
    }

    /// <summary>The text the seller would say for an action in the current state.</summary>
    public string Render(int action) => SellerActions.Render(SellerActions.All[action], State, _realiser);

    public StepResult Step(int action)
    {
        if (_sim == null) throw new InvalidOperationException("call Reset before Step");
        if (Done) throw new InvalidOperationException("the episode is over; call Reset");
        if ((uint)action >= (uint)SellerActions.Count)
            throw new ArgumentOutOfRangeException(nameof(action), action, $"expected an action id in [0, {SellerActions.Count})");
        var a = SellerActions.All[action];
        string sellerText = SellerActions.Render(a, State, _realiser);
        var before = _history.ToList();
        _history.Add(new Utterance(Speaker.Seller, sellerText));
        Turns++;
        var reply = _sim.Respond(a.Act, State);
        bool done = reply.Done, hungUp = reply.HungUp;
        string text = reply.Text;
        int satisfaction = reply.Satisfaction;
        if (!done && Turns >= MaxTurns) { done = true; hungUp = true; satisfaction = -1; text = "Sorry, this is taking too long. Bye."; }
        _history.Add(new Utterance(Speaker.Customer, text));
        if (!done) _tracker.Update(State, a.Act, text);
        _lastAct = a.Act;
        Done = done;
        double f1 = Order.SlotF1(State.Order.Slots(), _sim.Goal.Order.Slots());
        double r = RewardModel.Reward(new RewardContext(before, sellerText, text, done, reply.Success, hungUp));
        return new StepResult(text, r, done, new StepInfo(reply.Success, Turns, f1, hungUp, sellerText, satisfaction));
    }

    public SellerAct? LastAct => _lastAct;
}
