// What `train`, `compare` and `eval` need of any seller method (ISellerAgent), the method names, the
// factory, and the real-dialog loop the latent baselines (LatentDqn, LatentReinforce, LatentMpc) share with
// SellerMbpo's: the same budget of real dialogs on the same dialog seeds, uniform random seller actions for
// the first RandomDialogs (then the utterance normaliser is fixed), the same evaluation every EvalEvery
// dialogs on the same fixed evaluation seeds. A method plugs in how it acts, what it learns after each real
// turn and after each dialog, and its networks. Tested by tests/NanoMbpo.Agent.Tests/BaselineTests.cs.
using System.Diagnostics;
using NanoMbpo.Dialog;
using NanoMbpo.Optim;

namespace NanoMbpo.Agent;

public interface ISellerAgent
{
    SellerOptions Options { get; }
    ulong Seed { get; }
    /// <summary>The greedy policy's name in tables ("mbpo-sac", "dqn", …).</summary>
    string PolicyName { get; }
    List<CurvePoint> Curve { get; }
    SortedDictionary<string, double> Metrics { get; }
    /// <summary>The metrics metrics.csv records at each curve point.</summary>
    IReadOnlyList<string> CsvMetrics { get; }
    SortedDictionary<string, double> Profile { get; }
    long Turns { get; }
    int DialogsDone { get; }
    void Train(Action<string>? log = null, Action<CurvePoint>? onEval = null);
    /// <summary>The greedy policy (deterministic: a planner gets a fresh seeded stream per call).</summary>
    IDialogPolicy Policy();
    void Save(string dir);
    /// <summary>Loads what the greedy policy needs; <paramref name="all"/> loads every network.</summary>
    void Load(string dir, bool all = false);
}

public static class SellerMethods
{
    /// <summary>The command-line names, in the order `compare` lists them.</summary>
    public static readonly string[] Names = ["mbpo", "sac", "dyna", "dqn", "reinforce", "mpc", "mpc-rs"];
    public static string Name(SellerMethod m) => m == SellerMethod.MpcRs ? "mpc-rs" : m.ToString().ToLowerInvariant();
    public static SellerMethod Parse(string name) => Names.Contains(name) ? Enum.Parse<SellerMethod>(name.Replace("-", ""), ignoreCase: true)
        : throw new ArgumentException($"unknown seller method '{name}'; expected one of {string.Join(", ", Names)}");

    /// <summary>The agent of options.Method; <paramref name="makeEnv"/> is called once, by Train.
    /// <paramref name="reserveTurns"/>: extra real-buffer rows for a warm start (mbpo, sac, dyna).</summary>
    public static ISellerAgent Create(UtteranceTable table, SellerOptions options, ulong seed, Func<KinPizzaEnv> makeEnv, IReadOnlyList<PizzaRecord>? goals = null,
        int reserveTurns = 0) => options.Method switch
    {
        SellerMethod.Dqn => new LatentDqn(table, options, seed, makeEnv, goals),
        SellerMethod.Reinforce => new LatentReinforce(table, options, seed, makeEnv, goals),
        SellerMethod.Mpc or SellerMethod.MpcRs => new LatentMpc(table, options, seed, makeEnv, goals),
        _ => new MbpoAgent(new SellerMbpo(table, options, seed, makeEnv, goals, reserveTurns)),
    };
}

/// <summary>SellerMbpo (mbpo, sac, dyna) as an ISellerAgent.</summary>
public sealed class MbpoAgent(SellerMbpo agent) : ISellerAgent
{
    public SellerMbpo Agent => agent;
    public SellerOptions Options => agent.Options;
    public ulong Seed => agent.Seed;
    public string PolicyName => SellerMethods.Name(agent.Options.Method) + "-sac";
    public List<CurvePoint> Curve => agent.Curve;
    public SortedDictionary<string, double> Metrics => agent.Metrics;
    public IReadOnlyList<string> CsvMetrics => ["critic_loss", "actor_loss", "dynamics_loss", "alpha", "entropy", "q_mean", "latent_std", "model_holdout_mse", "online_success"];
    public SortedDictionary<string, double> Profile => agent.Profile;
    public long Turns => agent.Turns;
    public int DialogsDone => agent.DialogsDone;
    public void Train(Action<string>? log = null, Action<CurvePoint>? onEval = null)
    {
        agent.Train(log, onEval);
        agent.Profile["latent transformer (in sac update, forward)"] = agent.Learner.EncoderForwardSeconds;
    }
    public IDialogPolicy Policy() => new LatentPolicy(agent.Learner, PolicyName);
    public void Save(string dir) => SellerCheckpoint.Save(agent, dir);
    public void Load(string dir, bool all = false) => SellerCheckpoint.Load(agent.Learner, dir, all);
}

/// <summary>A greedy policy over the encoded window of the dialog's last utterances.</summary>
public sealed class WindowPolicy(UtteranceTable table, int L, Func<int[], int> act, string name) : IDialogPolicy
{
    readonly int[] window = new int[L];
    public string Name => name;
    public int Act(KinPizzaEnv env, DialogRng rng)
    {
        table.Window(env.History, window);
        return act(window);
    }
}

/// <summary>The real-dialog loop of the latent baselines (SellerMbpo.Train's loop without its model and SAC parts).</summary>
public abstract class LatentAgent : ISellerAgent
{
    public SellerOptions Options { get; }
    public ulong Seed { get; }
    public UtteranceTable Table { get; }
    public LatentState State { get; }
    public DialogReplay Real { get; }
    public int Actions { get; }
    public List<CurvePoint> Curve { get; } = [];
    public SortedDictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, double> Profile { get; } = new(StringComparer.Ordinal);
    public long Turns { get; private set; }
    public int DialogsDone { get; private set; }
    /// <summary>The gradient step named in a non-finite-loss error (real turns so far, as LatentSac's).</summary>
    public long Step => Turns;
    public abstract string PolicyName { get; }
    public abstract IReadOnlyList<string> CsvMetrics { get; }
    /// <summary>Every network with its optimizer (checkpoints); the first <see cref="PolicyNetworks"/> suffice to act.</summary>
    public abstract IEnumerable<(string Name, ParameterStore Store, Adam? Optimizer)> Networks();
    protected abstract string[] PolicyNetworks { get; }
    protected readonly Rng actRng, sampleRng;
    readonly Stopwatch part = new();
    protected void Lap(string name) { Profile[name] = Profile.GetValueOrDefault(name) + part.Elapsed.TotalSeconds; part.Restart(); }
    readonly IReadOnlyList<PizzaRecord>? goals;
    readonly Func<KinPizzaEnv> makeEnv;

    protected LatentAgent(UtteranceTable table, SellerOptions options, ulong seed, Func<KinPizzaEnv> makeEnv, IReadOnlyList<PizzaRecord>? goals)
    {
        options.Validate();
        Options = options; Seed = seed; Table = table; this.makeEnv = makeEnv; this.goals = goals;
        var texts = SellerActions.All.Select(a => a.Template).ToList();
        Actions = texts.Count;
        State = new LatentState(table, texts, options.Sac, new Rng(seed).Fork(40));
        Real = new DialogReplay(Math.Max(1000, options.Dialogs * options.MaxTurns), State.L);
        actRng = new Rng(seed).Fork(51); sampleRng = new Rng(seed).Fork(52);
    }

    /// <summary>An action for one window: greedy (evaluation) or exploring (training, after the random dialogs).</summary>
    protected abstract int Act(ReadOnlySpan<int> window, int dialog, bool greedy, Rng rng);
    /// <summary>After each real turn once the random dialogs are over (the turn is the newest in Real).</summary>
    protected abstract void AfterTurn(int dialog);
    /// <summary>After each dialog; <paramref name="turns"/> = its turns, the newest in Real.</summary>
    protected virtual void AfterDialog(int dialog, int turns) { }
    /// <summary>The method's part of the progress line.</summary>
    protected abstract string Status();
    /// <summary>The stream a greedy policy draws from (planners); fresh per Policy() call so evaluations repeat.</summary>
    protected virtual Rng PolicyRng() => new(0);

    public void Train(Action<string>? log = null, Action<CurvePoint>? onEval = null)
    {
        var o = Options;
        var env = makeEnv();
        int L = State.L;
        var w = new int[L]; var w2 = new int[L];
        var clock = Stopwatch.StartNew();
        for (int d = DialogsDone; d < o.Dialogs; d++)
        {
            part.Restart();
            env.Reset(DialogRng.Derive(Seed ^ 0x7EA1D1A1UL, (ulong)d));
            Table.Window(env.History, w);
            Lap("simulator + BERT");
            bool done = false;
            int turns = 0;
            while (!done)
            {
                int a = d < o.RandomDialogs ? actRng.NextInt(Actions) : Act(w, d, greedy: false, actRng);
                Lap("act");
                var res = env.Step(a);
                Table.Window(env.History, w2);
                Lap("simulator + BERT");
                Real.Add(w, a, res.Reward, w2, res.Done);
                done = res.Done;
                (w, w2) = (w2, w);
                Turns++; turns++;
                if (d < o.RandomDialogs) continue;
                if (Table.Mean == null) Table.FitNormaliser();
                AfterTurn(d);
            }
            AfterDialog(d, turns);
            DialogsDone = d + 1;
            if (DialogsDone % o.EvalEvery == 0 || DialogsDone == o.Dialogs)
            {
                part.Restart();
                var rep = Evaluate(o.EvalEpisodes, Seed ^ 0xE7A1UL);
                Lap("evaluation");
                var p = new CurvePoint(DialogsDone, Turns, rep.Success.Mean, rep.Return.Mean, rep.Turns.Mean, clock.Elapsed.TotalSeconds);
                Curve.Add(p);
                double rate = DialogsDone / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                log?.Invoke($"dialogs {DialogsDone}/{o.Dialogs} turns {Turns} | greedy success {p.Success:P0} return {p.Return:F1} turns {p.AvgTurns:F1} | {Status()}"
                    + $" | {rate:F2} dialogs/s, ETA {TimeSpan.FromSeconds((o.Dialogs - DialogsDone) / Math.Max(1e-9, rate)):mm\\:ss}");
                onEval?.Invoke(p);
            }
        }
    }

    /// <summary>The greedy policy on fixed evaluation dialogs (task reward), as `nanombpo eval` scores policies.</summary>
    public EvalReport Evaluate(int episodes, ulong seed) => Evaluation.Run(Policy(), episodes, seed, goals);

    public IDialogPolicy Policy()
    {
        var rng = PolicyRng();
        return new WindowPolicy(Table, State.L, w => Act(w, DialogsDone, greedy: true, rng), PolicyName);
    }

    public virtual void Save(string dir) => SellerCheckpoint.Save(Networks(), Table, dir, DialogsDone);
    public virtual void Load(string dir, bool all = false) => SellerCheckpoint.Load(Networks(), Table, dir, all ? null : PolicyNetworks);
}
