// The latent state the seller baselines share (LatentDqn, LatentReinforce, LatentMpc): the same
// LatentEncoder as LatentSac (window of utterance embeddings → z, built from the same LatentSacOptions),
// its EMA target copy, φ(a) built as LatentSac builds it (one-hot id + fixed projection of the response's
// embedding), and LatentSac's latent-dynamics head and loss ‖D(z, φ(a)) − [z̄', s·r]‖², for the methods
// that train the encoder through it. Windows of ids become (distinct rows, ids, mask) as in LatentSac, so a
// batch projects each distinct utterance once. Tested through tests/NanoMbpo.Agent.Tests/BaselineTests.cs.
using NanoMbpo.NN;
using NanoMbpo.Rl;

namespace NanoMbpo.Agent;

public sealed class LatentState
{
    public LatentSacOptions Options { get; }
    public UtteranceTable Table { get; }
    public int L => Options.Latent.MaxSeqLen;
    public int Z => Options.Latent.LatentDim;
    public ParameterStore EncoderStore { get; } = new();
    public ParameterStore EncoderTargetStore { get; } = new();
    public ParameterStore DynamicsStore { get; } = new();
    public LatentEncoder Encoder { get; }
    public LatentEncoder TargetEncoder { get; }
    readonly Mlp dynamics;
    /// <summary>φ(a): (A, ActionFeatureDim).</summary>
    public float[] ActionFeatures { get; }
    public int ActionFeatureDim { get; }
    readonly TensorArena arena = new();

    /// <param name="init">The initialisation stream (forks 1, 5 and 6 as LatentSac's).</param>
    public LatentState(UtteranceTable table, IReadOnlyList<string> actionTexts, LatentSacOptions options, Rng init)
    {
        Options = options; Table = table;
        Encoder = new LatentEncoder(EncoderStore, "latent.", table.Dim, options.Latent, init.Fork(1));
        TargetEncoder = new LatentEncoder(EncoderTargetStore, "latent.", table.Dim, options.Latent, null);
        EncoderTargetStore.CopyFrom(EncoderStore);
        (ActionFeatures, ActionFeatureDim) = LatentSac.BuildActionFeatures(table, actionTexts, options.ActionTextDim, init.Fork(5));
        dynamics = Nets.Mlp(DynamicsStore, "dynamics.", Z + ActionFeatureDim, options.Hidden, Z + 1, init.Fork(6));
    }

    /// <summary>The distinct utterances of n windows, re-indexed, with the padding mask (UtteranceTable.Distinct).</summary>
    public (Tensor Rows, Tensor Ids, Tensor Mask) Windows(ReadOnlySpan<int> windows, int n) => Table.Distinct(windows, n, L);

    /// <summary>z (n,Z) of n windows: the online encoder records a graph (inside the caller's arena), the target never does.</summary>
    public Tensor Forward(ReadOnlySpan<int> windows, int n, bool target)
    {
        var (x, ix, m) = Windows(windows, n);
        if (!target) return Encoder.Forward(x, ix, m);
        using (Autograd.NoGrad()) return TargetEncoder.Forward(x, ix, m);
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
            Forward(windows.Slice(i * L, m * L), m, target).F32.CopyTo(z.AsSpan(i * Z, m * Z));
        }
        return z;
    }

    /// <summary>LatentSac's latent-dynamics loss on real turns: MSE(D(z, φ(a)), [z̄', s·r]) with z̄' from the target encoder.</summary>
    public Tensor DynamicsLoss(long step, Tensor z, Tensor zNextTarget, ReadOnlySpan<int> actions, ReadOnlySpan<float> scaledRewards, out double value)
    {
        int B = actions.Length, fd = ActionFeatureDim, Zd = Z;
        var feat = new float[B * fd];
        for (int i = 0; i < B; i++) ActionFeatures.AsSpan(actions[i] * fd, fd).CopyTo(feat.AsSpan(i * fd));
        var target = new float[B * (Zd + 1)];
        var z2 = zNextTarget.F32;
        for (int i = 0; i < B; i++) { z2.Slice(i * Zd, Zd).CopyTo(target.AsSpan(i * (Zd + 1))); target[i * (Zd + 1) + Zd] = scaledRewards[i]; }
        return Nets.Loss(step, "latent dynamics", () => F.MseLoss(
            dynamics.Forward(F.Concat([z, Tensor.FromArray(feat, B, fd)], 1)), Tensor.FromArray(target, B, Zd + 1)), out value);
    }

    /// <summary>The greedy (arg-max) index of a row of scores.</summary>
    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
