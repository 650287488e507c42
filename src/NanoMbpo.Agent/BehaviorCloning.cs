// Behaviour cloning of the rule-based expert: the stage-1 main job. A noisy expert (epsilon-greedy)
// visits states, including recoveries from its own mistakes; the noise-free expert labels each one
// (DAgger's labelling on a fixed behaviour policy); an MLP over HashedTextEncoder features learns the
// labels with cross-entropy and Adam; the learner is evaluated against the simulator beside the
// random and rule baselines. Reads top to bottom: options, corpus, training, evaluation.
// Tested by tests/NanoMbpo.Tests/Agent/AgentTests.cs; run with `nanombpo train`.
using System.Diagnostics;
using NanoMbpo.Dialog;
using NanoMbpo.NN;
using NanoMbpo.Optim;

namespace NanoMbpo.Agent;

public sealed record BcOptions
{
    /// <summary>Seeds the corpus, the initialisation, the minibatch order and the evaluation.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Dialogs the behaviour policy plays to collect labelled states.</summary>
    public int Dialogs { get; init; } = 800;
    /// <summary>Probability that the behaviour policy takes a random action instead of the expert's.</summary>
    public double Epsilon { get; init; } = 0.2;
    /// <summary>Length of the hashed feature vector fed to the MLP.</summary>
    public int FeatureDim { get; init; } = 1024;
    /// <summary>Width of the MLP's two hidden layers.</summary>
    public int Hidden { get; init; } = 256;
    /// <summary>Passes over the corpus.</summary>
    public int Epochs { get; init; } = 12;
    /// <summary>States per Adam step.</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Adam's step size.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Episodes per policy in the final evaluation.</summary>
    public int EvalEpisodes { get; init; } = 300;

    public void Validate()
    {
        void Positive(int v, string name) { if (v < 1) throw new ArgumentOutOfRangeException(name, v, "expected a positive number"); }
        Positive(Dialogs, "--dialogs"); Positive(FeatureDim, "--feature-dim"); Positive(Hidden, "--hidden");
        Positive(Epochs, "--epochs"); Positive(BatchSize, "--batch-size"); Positive(EvalEpisodes, "--eval-episodes");
        if (Epsilon is < 0 or > 1 || double.IsNaN(Epsilon)) throw new ArgumentOutOfRangeException("--epsilon", Epsilon, "expected a probability in [0, 1]");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException("--lr", LearningRate, "expected a positive finite number");
    }
}

/// <summary>One epoch of the learning curve.</summary>
public sealed record BcEpoch(int Epoch, double Loss, double Accuracy, double SamplesPerSecond);

public sealed record BcResult(IReadOnlyList<BcEpoch> Curve, int States, EvalReport Learner, EvalReport Rule, EvalReport Random, MlpPolicy Policy);

public static class BehaviorCloning
{
    /// <summary>Runs the whole job. <paramref name="checkpointPath"/>, when given, receives the
    /// weights after every epoch (atomically), so a failure keeps the last good ones. Training runs on
    /// <paramref name="device"/> (default the CPU); evaluation plays one state at a time on the CPU.</summary>
    public static BcResult Run(BcOptions o, Action<string>? log = null, string? checkpointPath = null, Device? device = null)
    {
        o.Validate();
        device ??= Device.Cpu;
        log ??= _ => { };
        var encoder = new HashedTextEncoder(o.FeatureDim);
        int actions = KinPizzaEnv.ActionCount;

        // ---- corpus: noisy expert visits, clean expert labels ------------------------------------
        var xs = new List<float[]>();
        var ys = new List<int>();
        var env = new KinPizzaEnv();
        var behaviour = new RulePolicy(o.Epsilon);
        for (int d = 0; d < o.Dialogs; d++)
        {
            ulong seed = DialogRng.Derive(o.Seed, (ulong)d);
            env.Reset(seed);
            var rng = new DialogRng(seed ^ 0xB0C0B0C0UL);
            StepResult r;
            do
            {
                var f = new float[o.FeatureDim];
                encoder.Encode(env.History, f);
                Diagnostics.NumericGuard.FlushSubnormals(f);   // GEMM inputs stay free of slow subnormals
                xs.Add(f);
                ys.Add(SellerActions.IdOf(RulePolicy.Choose(env.State)));
                r = env.Step(behaviour.Act(env, rng));
            } while (!r.Done);
        }
        log($"corpus: {o.Dialogs} dialogs, {xs.Count} labelled states, {actions} seller actions");

        // ---- model: MLP feature -> hidden -> hidden -> action logits ----------------------------
        var rngInit = new Rng(o.Seed).Fork(1);
        var store = new ParameterStore(DType.F32);
        var net = new Mlp(store, "policy.", [o.FeatureDim, o.Hidden, o.Hidden, actions], Activation.Relu, rngInit);
        store.MoveTo(device);   // every parameter and gradient view follows the two flat buffers
        var opt = new Adam(store, o.LearningRate);
        var guard = new Diagnostics.NumericGuard(store, "behaviour-cloning policy");

        // ---- training ----------------------------------------------------------------------------
        var order = Enumerable.Range(0, xs.Count).ToArray();
        var shuffle = new Rng(o.Seed).Fork(2);
        int batches = (xs.Count + o.BatchSize - 1) / o.BatchSize;
        var curve = new List<BcEpoch>();
        var yb = new int[o.BatchSize];
        var stepArena = new NN.TensorArena();
        var total = Stopwatch.StartNew();
        long step = 0;
        for (int epoch = 1; epoch <= o.Epochs; epoch++)
        {
            var sw = Stopwatch.StartNew();
            shuffle.Shuffle<int>(order);
            double lossSum = 0; int correct = 0, seen = 0;
            for (int b = 0; b < batches; b++)
            {
                int n = Math.Min(o.BatchSize, xs.Count - b * o.BatchSize);
                // Every tensor of the step (batch, activations, their gradients) comes from the
                // step arena, rewound each step: a warmed-up step allocates no tensor memory.
                using var scope = Compute.With(arena: stepArena);
                var xc = Tensor.Zeros([n, o.FeatureDim]); var yc = Tensor.Zeros([n], DType.I32);
                for (int i = 0; i < n; i++)
                {
                    int s = order[b * o.BatchSize + i];
                    xs[s].CopyTo(xc.F32.Slice(i * o.FeatureDim, o.FeatureDim));
                    yb[i] = yc.I32[i] = ys[s];
                }
                var x = device.IsCpu ? xc : xc.To(device);   // (B, D)
                var y = device.IsCpu ? yc : yc.To(device);   // (B)
                var logits = net.Forward(x);                                             // (B, A)
                var loss = F.CrossEntropy(logits, y);
                step++;
                double l = loss.Item();
                if (!double.IsFinite(l))
                    throw new NonFiniteException($"behaviour cloning: loss is {l} at step {step} (epoch {epoch}, batch {b}); the last good checkpoint is kept{(checkpointPath is null ? "" : " at " + checkpointPath)}.");
                opt.ZeroGrad();
                loss.Backward();
                guard.CheckGradients(step);   // names the first parameter with a NaN/Inf gradient before Adam spreads it
                opt.Step();
                guard.FlushSubnormalWeights();
                lossSum += l * n;
                var lg = logits.To(Device.Cpu).F32;
                for (int i = 0; i < n; i++)
                {
                    int best = 0;
                    for (int a = 1; a < actions; a++) if (lg[i * actions + a] > lg[i * actions + best]) best = a;
                    if (best == yb[i]) correct++;
                }
                seen += n;
            }
            double rate = seen / Math.Max(sw.Elapsed.TotalSeconds, 1e-9);
            curve.Add(new BcEpoch(epoch, lossSum / seen, (double)correct / seen, rate));
            if (checkpointPath is not null)
                Checkpoint.Save(store, checkpointPath, new Dictionary<string, string> { ["epoch"] = epoch.ToString(), ["job"] = "behaviour-cloning" });
            double eta = total.Elapsed.TotalSeconds / epoch * (o.Epochs - epoch);
            log($"epoch {epoch,3}/{o.Epochs}  loss {lossSum / seen:F4}  acc {(double)correct / seen:P1}  {rate:F0} states/s  {guard.Summary()}  ETA {eta:F0}s");
        }

        // ---- evaluation against the simulator ----------------------------------------------------
        net.Eval();
        store.MoveTo(Device.Cpu);
        var policy = new MlpPolicy(encoder, net);
        ulong evalSeed = o.Seed + 1_000_003;   // episodes the corpus never saw
        var learner = Evaluation.Run(policy, o.EvalEpisodes, evalSeed);
        var rule = Evaluation.Run(new RulePolicy(), o.EvalEpisodes, evalSeed);
        var random = Evaluation.Run(new RandomPolicy(), o.EvalEpisodes, evalSeed);
        return new BcResult(curve, xs.Count, learner, rule, random, policy);
    }
}
