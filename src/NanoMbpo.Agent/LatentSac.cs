// Discrete SAC (Christodoulou 2019) in the paper's latent space, the seller's policy optimiser. The
// state is z = LatentEncoder(window of utterance embeddings); one gradient step on a batch of real turns
// (windows, encoded now) and model transitions (latents from world-model rollouts):
//   critic   ½ Σ_i MSE(Q_i(z, a), s·r + γ(1 − done)·Σ_a' π(a'|z̄')(min Q̄(z̄', a') − α log π(a'|z̄')))
//   dynamics ‖D(z, φ(a)) − [z̄', s·r]‖²  on real turns (the paper's ‖ẑ − z‖ + ‖r̂ − r‖ loss, squared)
//   actor    mean Σ_a π(a|z)(α log π(a|z) − min Q(z, a)), z detached (the encoder learns from the
//            critic and dynamics losses only, as in SAC-AE and DrQ)
//   α        −log α·(−H(π) + H̄), H̄ = TargetEntropyScale·log|A|
// z̄' comes from the EMA target encoder, so the targets the encoder chases move slowly and a collapse
// of every latent onto one point is not a fixed point of the dynamics loss. φ(a) is the action's id
// (one-hot) beside a fixed projection of the BERT embedding of its response text.
// On an accelerator (MoveTo) every network but the scalar α lives on the device; each update uploads its
// batch and reads back only what the loop needs (latents, π, entropy, metrics).
// Tested by tests/NanoMbpo.Agent.Tests/LatentTests.cs, SellerTests.cs and DeviceTests.cs (ILGPU's CPU accelerator).
using NanoMbpo.NN;
using NanoMbpo.Optim;
using NanoMbpo.Rl;

namespace NanoMbpo.Agent;

/// <summary>The critics' TD loss (LatentSacOptions.CriticLoss).</summary>
public enum TdLoss { Mse, Huber }

public sealed record LatentSacOptions
{
    /// <summary>Adam learning rate of actor, critics, encoder, dynamics head and α.</summary>
    public double LearningRate { get; init; } = 3e-4;
    /// <summary>The learning rate at the end of the schedule (SellerOptions.ScheduleDialogs) as a fraction of LearningRate, reached linearly
    /// (SellerMbpo sets Progress); 1 keeps it constant.</summary>
    public double FinalLearningRateScale { get; init; } = 1.0;
    /// <summary>Transitions per gradient step (real and model together).</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Polyak coefficient of the target critics.</summary>
    public double Tau { get; init; } = 0.01;
    /// <summary>EMA coefficient of the target latent encoder.</summary>
    public double EncoderTau { get; init; } = 0.01;
    /// <summary>Discount; dialogs end within 20 turns.</summary>
    public double Gamma { get; init; } = 0.97;
    /// <summary>Target entropy as a fraction of log|A| (30 actions: log 30 = 3.4 nats; 0.2 let α fall to 0.01 and the
    /// policy settle on a bad deterministic loop before it had found a successful dialog; 0.4 keeps exploring).</summary>
    public double TargetEntropyScale { get; init; } = 0.4;
    /// <summary>The target-entropy fraction at the end of the schedule (SellerOptions.ScheduleDialogs), reached linearly (SellerMbpo sets Progress);
    /// equal to TargetEntropyScale keeps it constant. Lower late makes the soft policy, whose Q the critics learn,
    /// closer to the greedy policy that is evaluated.</summary>
    public double FinalTargetEntropyScale { get; init; } = 0.1;
    public double InitialAlpha { get; init; } = 0.2;
    /// <summary>Rewards are multiplied by this before the critics see them (task rewards reach +40).</summary>
    public double RewardScale { get; init; } = 0.1;
    /// <summary>The critics' TD loss: Mse (SAC's) or Huber (δ = 1 on the scaled rewards, as DQN): a success
    /// bonus of +4 against a failure of −2 in similar latents gives TD errors whose squares, fed back into the shared
    /// encoder, made the critic loss of some seeds climb from 0.4 to 36 and their greedy success swing 43-93 %.
    /// Measured (bench/RESULTS.md, session 7, on a fresh clone's reply model, seeds 1-4): Huber 98 / 95.5 / 62.5 / 94 %
    /// against MSE's 91 / 85 / 90 % on seeds 1-3: it stops the divergence but does not lift the mean, so MSE stays.</summary>
    public TdLoss CriticLoss { get; init; } = TdLoss.Mse;
    /// <summary>Weight of the latent-dynamics loss in the encoder's objective. With the latent's scale fixed by its
    /// LayerNorm, 1.0 gave seed 2 92% greedy success after 600 dialogs where 0.1 gave 0% after 1000.</summary>
    public double DynamicsWeight { get; init; } = 1.0;
    /// <summary>Weight of the variance hinge mean_j max(0, VarianceFloor − std_j(z)) over each latent dimension's
    /// standard deviation across the batch of real turns (VICReg's variance term). Without it the critic loss
    /// could shrink the latent onto a few directions (batch std 0.17 of a LayerNorm'd 32-dim latent in a run
    /// that never learned, against 0.6-0.8 in runs that did); 0 turns it off. The floor 0.5 only acts on a
    /// collapse; 1.0 whitened the latent and slowed learning (one seed of three at 47 % after 1500 dialogs).</summary>
    public double VarianceWeight { get; init; } = 1.0;
    public double VarianceFloor { get; init; } = 0.5;
    public int[] Hidden { get; init; } = [128, 128];
    /// <summary>Dimensions of the fixed random projection of each action's BERT text embedding.</summary>
    public int ActionTextDim { get; init; } = 16;
    public LatentOptions Latent { get; init; } = new();
}

/// <summary>Latent transitions from the world model (rows of z, action, reward, z', done).</summary>
public sealed class LatentBatch(int capacity, int Z)
{
    public int Rows { get; set; }
    public float[] Z { get; } = new float[capacity * Z];
    public float[] Z2 { get; } = new float[capacity * Z];
    public int[] A { get; } = new int[capacity];
    public float[] R { get; } = new float[capacity];
    public byte[] Term { get; } = new byte[capacity];
}

public sealed class LatentSac
{
    public LatentSacOptions Options { get; }
    public UtteranceTable Table { get; }
    public int Actions { get; }
    public int Z => Options.Latent.LatentDim;
    public int L => Options.Latent.MaxSeqLen;
    public ParameterStore EncoderStore { get; } = new();
    public ParameterStore EncoderTargetStore { get; } = new();
    public ParameterStore ActorStore { get; } = new();
    public ParameterStore CriticStore { get; } = new();
    public ParameterStore CriticTargetStore { get; } = new();
    public ParameterStore DynamicsStore { get; } = new();
    public ParameterStore AlphaStore { get; } = new();
    public LatentEncoder Encoder { get; }
    readonly LatentEncoder encoderTarget;
    readonly Mlp actor, qf1, qf2, qf1T, qf2T, dynamics;
    readonly Tensor logAlpha;
    public Adam EncoderOpt { get; }
    public Adam ActorOpt { get; }
    public Adam CriticOpt { get; }
    public Adam DynamicsOpt { get; }
    public Adam AlphaOpt { get; }
    /// <summary>φ(a): (A, ActionFeatureDim), one-hot id then the projected text embedding.</summary>
    public float[] ActionFeatures { get; }
    public int ActionFeatureDim { get; }
    public double TargetEntropy { get; private set; }
    public SortedDictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);
    /// <summary>The step named in a non-finite-loss error.</summary>
    public long Step { get; set; }
    readonly TensorArena arena = new();
    readonly NanoMbpo.Diagnostics.NumericGuard encoderGuard, criticGuard, dynamicsGuard, actorGuard;

    public LatentSac(UtteranceTable table, IReadOnlyList<string> actionTexts, ulong seed, LatentSacOptions? options = null)
    {
        Options = options ?? new LatentSacOptions();
        Table = table; Actions = actionTexts.Count;
        var init = new Rng(seed).Fork(40);
        int z = Z, nA = Actions;
        Encoder = new LatentEncoder(EncoderStore, "latent.", table.Dim, Options.Latent, init.Fork(1));
        encoderTarget = new LatentEncoder(EncoderTargetStore, "latent.", table.Dim, Options.Latent, null);
        EncoderTargetStore.CopyFrom(EncoderStore);
        actor = Nets.Mlp(ActorStore, "actor.", z, Options.Hidden, nA, init.Fork(2));
        qf1 = Nets.Mlp(CriticStore, "qf1.", z, Options.Hidden, nA, init.Fork(3));
        qf2 = Nets.Mlp(CriticStore, "qf2.", z, Options.Hidden, nA, init.Fork(4));
        qf1T = Nets.Mlp(CriticTargetStore, "qf1.", z, Options.Hidden, nA, null);
        qf2T = Nets.Mlp(CriticTargetStore, "qf2.", z, Options.Hidden, nA, null);
        CriticTargetStore.CopyFrom(CriticStore);
        (ActionFeatures, ActionFeatureDim) = BuildActionFeatures(table, actionTexts, Options.ActionTextDim, init.Fork(5));
        dynamics = Nets.Mlp(DynamicsStore, "dynamics.", z + ActionFeatureDim, Options.Hidden, z + 1, init.Fork(6));
        logAlpha = AlphaStore.Create("log_alpha", 1);
        logAlpha.F32[0] = (float)Math.Log(Options.InitialAlpha);
        double lr = Options.LearningRate;
        EncoderOpt = new Adam(EncoderStore, lr); ActorOpt = new Adam(ActorStore, lr); CriticOpt = new Adam(CriticStore, lr);
        DynamicsOpt = new Adam(DynamicsStore, lr); AlphaOpt = new Adam(AlphaStore, lr);
        TargetEntropy = Options.TargetEntropyScale * Math.Log(nA);
        encoderGuard = new(EncoderStore, "latent encoder"); criticGuard = new(CriticStore, "critic");
        dynamicsGuard = new(DynamicsStore, "latent dynamics"); actorGuard = new(ActorStore, "actor");
    }

    internal static (float[], int) BuildActionFeatures(UtteranceTable table, IReadOnlyList<string> texts, int projDim, Rng rng)
    {
        int nA = texts.Count, h = table.Dim, d = nA + projDim;
        var ids = new int[nA];
        table.Ids(texts, ids);
        var proj = new float[h * projDim];
        for (int i = 0; i < proj.Length; i++) proj[i] = (float)(rng.Normal() / Math.Sqrt(h));
        var f = new float[nA * d];
        for (int a = 0; a < nA; a++)
        {
            f[a * d + a] = 1;
            var e = table.Row(ids[a]);
            for (int k = 0; k < projDim; k++)
            {
                double s = 0;
                for (int j = 0; j < h; j++) s += e[j] * proj[j * projDim + k];
                f[a * d + nA + k] = (float)s;
            }
        }
        return (f, d);
    }

    public double Alpha => Math.Exp(logAlpha.F32[0]);

    /// <summary>Where the networks live (MoveTo); the CPU by default.</summary>
    public Device Device { get; private set; } = Device.Cpu;

    /// <summary>Moves every network but α to <paramref name="device"/> (α's gradient is one number computed on the
    /// host from the entropy, so its store and optimizer stay there). Adam keeps its moments on the device.</summary>
    public void MoveTo(Device device)
    {
        foreach (var s in new[] { EncoderStore, EncoderTargetStore, ActorStore, CriticStore, CriticTargetStore, DynamicsStore }) s.MoveTo(device);
        Device = device;
    }

    // To returns the tensor itself when it is already there, so on the CPU these cost nothing
    Tensor Up(Tensor t) => t.To(Device);
    static Tensor Host(Tensor t) => t.To(Device.Cpu);

    /// <summary>Fraction of the schedule done (SellerOptions.ScheduleDialogs), in [0, 1]: sets every optimizer's learning rate on the
    /// linear schedule from LearningRate to FinalLearningRateScale·LearningRate, and the target entropy on its
    /// schedule from TargetEntropyScale to FinalTargetEntropyScale (times log|A|).</summary>
    public void SetProgress(double progress)
    {
        double f = Math.Clamp(progress, 0, 1);
        double lr = Options.LearningRate * (1 - f * (1 - Options.FinalLearningRateScale));
        foreach (var o in new[] { EncoderOpt, ActorOpt, CriticOpt, DynamicsOpt, AlphaOpt }) o.LearningRate = lr;
        TargetEntropy = (Options.TargetEntropyScale + f * (Options.FinalTargetEntropyScale - Options.TargetEntropyScale)) * Math.Log(Actions);
        Metrics["learning_rate"] = lr; Metrics["target_entropy"] = TargetEntropy;
    }
    /// <summary>Seconds in the latent Transformer's forward passes inside Update (the profile's encoder share).</summary>
    public double EncoderForwardSeconds { get; set; }

    /// <summary>The distinct utterances of n windows (rows uploaded; ids and mask are index data the ops upload).</summary>
    (Tensor Rows, Tensor Ids, Tensor Mask) Windows(ReadOnlySpan<int> windows, int n)
    {
        var (rows, ids, mask) = Table.Distinct(windows, n, L);
        return (Up(rows), ids, mask);
    }

    /// <summary>Latents (n, Z) of n windows with the online or the target encoder, no gradient.</summary>
    public float[] Encode(ReadOnlySpan<int> windows, int n, bool target)
    {
        var z = new float[n * Z];
        using var _ = Autograd.NoGrad();
        for (int i = 0; i < n; i += 256)
        {
            int m = Math.Min(256, n - i);
            using var __ = arena.Use();
            var (rows, ids, mask) = Windows(windows.Slice(i * L, m * L), m);
            Host((target ? encoderTarget : Encoder).Forward(rows, ids, mask)).F32.CopyTo(z.AsSpan(i * Z, m * Z));
        }
        return z;
    }

    /// <summary>π's probabilities (n, A) at latents z (n, Z).</summary>
    public float[] Probs(float[] z, int n)
    {
        using var _ = Autograd.NoGrad();
        using var __ = arena.Use();
        return Host(F.Softmax(actor.Forward(Up(Tensor.FromArray(z.AsSpan(0, n * Z).ToArray(), n, Z))))).F32.ToArray();
    }

    /// <summary>The greedy action, or a sample of π, for one window.</summary>
    public int Act(ReadOnlySpan<int> window, bool greedy, Rng rng)
    {
        var p = Probs(Encode(window, 1, target: false), 1);
        if (!greedy) return rng.Categorical(p);
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }

    /// <summary>One gradient step: real turns (windows) and, if given, model transitions (latents).</summary>
    public void Update(DialogBatch real, LatentBatch? model)
    {
        using var _ = arena.Use();
        int Br = real.Rows, Bm = model?.Rows ?? 0, B = Br + Bm, nA = Actions, z = Z;
        double scale = Options.RewardScale, alpha = Alpha;
        var (x, ix, m) = Windows(real.S, Br);
        var (x2, ix2, m2) = Windows(real.S2, Br);
        // ---- latents: online encoder with gradient at s, EMA target encoder at s' -------------------
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var zr = Encoder.Forward(x, ix, m);                                      // (Br,Z)
        Tensor z2r;
        using (Autograd.NoGrad()) z2r = encoderTarget.Forward(x2, ix2, m2);       // (Br,Z)
        EncoderForwardSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var act = new int[B]; var rew = new float[B]; var term = new float[B];
        for (int i = 0; i < Br; i++) { act[i] = real.A[i]; rew[i] = (float)(real.R[i] * scale); term[i] = real.Term[i]; }
        Tensor zAll = zr, z2All = z2r;
        if (Bm > 0)
        {
            for (int i = 0; i < Bm; i++) { act[Br + i] = model!.A[i]; rew[Br + i] = (float)(model.R[i] * scale); term[Br + i] = model.Term[i]; }
            zAll = F.Concat([zr, Up(Tensor.FromArray(model!.Z.AsSpan(0, Bm * z).ToArray(), Bm, z))], 0);
            z2All = F.Concat([z2r, Up(Tensor.FromArray(model.Z2.AsSpan(0, Bm * z).ToArray(), Bm, z))], 0);
        }
        var a = Tensor.FromArray(act, B); var r = Up(Tensor.FromArray(rew, B)); var done = Up(Tensor.FromArray(term, B));
        var zd = Device.IsCpu ? Tensor.FromArray(zAll.F32.ToArray(), B, z) : zAll.Detach();   // detached for the actor
        // ---- temperature ------------------------------------------------------------------------------
        var logits = actor.Forward(zd);
        var probs = F.Softmax(logits); var logp = F.LogSoftmax(logits);
        double entropy = 0;
        var pd = Host(probs).F32; var ld = Host(logp).F32;
        for (int i = 0; i < pd.Length; i++) entropy -= pd[i] * ld[i];
        entropy /= B;
        if (!double.IsFinite(entropy)) throw new NonFiniteException($"step {Step}: the policy entropy is not finite (alpha network).");
        AlphaStore.Grad<float>()[0] = (float)(entropy - TargetEntropy);
        AlphaOpt.Step(zeroGrad: true);
        // ---- critics and latent dynamics (one backward into the encoder) ------------------------------
        Tensor target;
        using (Autograd.NoGrad())
        {
            var l2 = actor.Forward(z2All);
            var v = F.Sum(F.Softmax(l2) * (F.Minimum(qf1T.Forward(z2All), qf2T.Forward(z2All)) - F.LogSoftmax(l2) * alpha), -1);
            target = r + (1.0 - done) * v * Options.Gamma;
        }
        var q1 = qf1.Forward(zAll); var q2 = qf2.Forward(zAll);
        bool huber = Options.CriticLoss == TdLoss.Huber;
        var qLoss = Nets.Loss(Step, "critic", () => huber
            ? 0.5 * (Losses.Huber(F.Gather(q1, a), target) + Losses.Huber(F.Gather(q2, a), target))
            : 0.5 * (F.MseLoss(F.Gather(q1, a), target) + F.MseLoss(F.Gather(q2, a), target)), out double qv);
        var feat = new float[Br * ActionFeatureDim];
        for (int i = 0; i < Br; i++) ActionFeatures.AsSpan(act[i] * ActionFeatureDim, ActionFeatureDim).CopyTo(feat.AsSpan(i * ActionFeatureDim));
        var dynTarget = new float[Br * (z + 1)];
        var z2d = Host(z2r).F32;
        for (int i = 0; i < Br; i++) { z2d.Slice(i * z, z).CopyTo(dynTarget.AsSpan(i * (z + 1))); dynTarget[i * (z + 1) + z] = rew[i]; }
        var dynLoss = Nets.Loss(Step, "latent dynamics", () => F.MseLoss(
            dynamics.Forward(F.Concat([zr, Up(Tensor.FromArray(feat, Br, ActionFeatureDim))], 1)), Up(Tensor.FromArray(dynTarget, Br, z + 1))), out double dv);
        var encoderLoss = qLoss + dynLoss * Options.DynamicsWeight;
        if (Options.VarianceWeight > 0)
        {
            var centred = zr - F.Mean(zr, 0, keepDim: true);                             // (Br,Z)
            var std = F.Sqrt(F.Mean(centred * centred, 0) + 1e-4);                      // (Z)
            var varLoss = Nets.Loss(Step, "latent variance", () => F.MeanAll(F.Relu(Options.VarianceFloor - std)), out double vv);
            Metrics["variance_loss"] = vv;
            encoderLoss = encoderLoss + varLoss * Options.VarianceWeight;
        }
        encoderLoss.Backward();
        // a non-finite gradient stops the run naming the step, the network and its first bad parameter
        Metrics["grad_norm_critic"] = criticGuard.CheckGradients(Step);
        Metrics["grad_norm_encoder"] = encoderGuard.CheckGradients(Step);
        dynamicsGuard.CheckGradients(Step);
        CriticOpt.Step(zeroGrad: true); EncoderOpt.Step(zeroGrad: true); DynamicsOpt.Step(zeroGrad: true);
        // ---- actor: exact expectation over actions, critics detached ----------------------------------
        Tensor minQ;
        using (Autograd.NoGrad()) minQ = F.Minimum(qf1.Forward(zd), qf2.Forward(zd));
        var actorLoss = Nets.Loss(Step, "actor", () => F.MeanAll(F.Sum(probs * (logp * alpha - minQ), -1)), out double av);
        actorLoss.Backward();
        Metrics["grad_norm_actor"] = actorGuard.CheckGradients(Step);
        ActorOpt.Step(zeroGrad: true);
        // ---- targets ----------------------------------------------------------------------------------
        CriticTargetStore.PolyakUpdate(CriticStore, Options.Tau);
        EncoderTargetStore.PolyakUpdate(EncoderStore, Options.EncoderTau);
        Metrics["critic_loss"] = qv; Metrics["dynamics_loss"] = dv; Metrics["actor_loss"] = av;
        Metrics["alpha"] = Alpha; Metrics["entropy"] = entropy;
        Metrics["q_mean"] = Host(q1).F32.ToArray().Average();
        Metrics["latent_std"] = Std(Host(zr).F32, Br, z);
    }

    /// <summary>Mean over latent dimensions of the batch standard deviation (the collapse monitor).</summary>
    public static double Std(ReadOnlySpan<float> zs, int n, int z)
    {
        double total = 0;
        for (int k = 0; k < z; k++)
        {
            double s = 0, s2 = 0;
            for (int i = 0; i < n; i++) { double v = zs[i * z + k]; s += v; s2 += v * v; }
            double mean = s / n;
            total += Math.Sqrt(Math.Max(0, s2 / n - mean * mean));
        }
        return total / z;
    }

    /// <summary>Every network with its optimizer (checkpoints).</summary>
    public IEnumerable<(string Name, ParameterStore Store, Adam? Optimizer)> Networks() =>
    [
        ("encoder", EncoderStore, EncoderOpt), ("encoder_target", EncoderTargetStore, null), ("actor", ActorStore, ActorOpt),
        ("critic", CriticStore, CriticOpt), ("critic_target", CriticTargetStore, null), ("dynamics", DynamicsStore, DynamicsOpt),
        ("alpha", AlphaStore, AlphaOpt),
    ];
}
