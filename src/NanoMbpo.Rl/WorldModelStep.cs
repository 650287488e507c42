// The world-model training-step workload of `nanombpo bench world-model` and bench/ SacUpdateBench:
// the default ensemble (7 members, 4 SiLU layers of 200, learned log-variance bounds) on Pendulum
// shapes (in 4, out 2·4), batch 256 per member, cycling through 16 fixed noise batches; one step =
// forward, loss (NLL + bound penalty + L2), backward, Adam. Activations come from a TensorArena.
// The same step in PyTorch: bench/sac_anchor.py world-model. Tested by tests/NanoMbpo.Rl.Tests/ModelTests.cs.
using NanoMbpo.NN;

namespace NanoMbpo.Rl;

public sealed class WorldModelStep
{
    public WorldModel Model { get; }
    readonly Tensor[] xs, ys;
    readonly TensorArena arena = new();
    long k;

    public WorldModelStep(ulong seed = 1, int batch = 256)
    {
        Model = new WorldModel(3, 1, new Rng(seed));
        var rng = new Rng(seed + 1);
        int E = Model.Options.Members;
        xs = new Tensor[16]; ys = new Tensor[16];
        for (int i = 0; i < 16; i++) { xs[i] = Tensor.Randn(rng, [E, batch, Model.InDim]); ys[i] = Tensor.Randn(rng, [E, batch, Model.OutDim]); }
    }

    /// <summary>One training step; returns the loss before the update.</summary>
    public double Step()
    {
        int i = (int)(k++ % xs.Length);
        using var _ = arena.Use();
        var loss = Model.Loss(xs[i], ys[i]);
        double v = loss.Item();
        loss.Backward();
        Model.Optimizer.Step(zeroGrad: true);
        return v;
    }
}
