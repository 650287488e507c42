// The MLP training-step workload shared by `nanombpo bench mlp` and bench/ MlpStepBench: an MLP
// 64-256-256-16 (ReLU) on batches of 256 drawn once (noise targets, cycled through a fixed set of
// batches so the loss cannot collapse to ~0: tiny gradients would make Adam's moments denormal and
// time the CPU's slow path instead of the step), one step = forward, MSE loss, backward, Adam.
// The model, optimizer and batches are built once, and activations and their gradients come from
// a TensorArena reused every step, so a warmed-up step allocates no tensor memory.
// Adam clears the gradients in its own pass (Step(zeroGrad: true)) instead of a ZeroGrad sweep.
// Run: `nanombpo bench mlp --threads 2`; tests: tests/NanoMbpo.Tests/NN/MlpTrainStepTests.cs.
using NanoMbpo.Optim;

namespace NanoMbpo.NN;

public sealed class MlpTrainStep
{
    public ParameterStore Store { get; }
    public Mlp Model { get; }
    public Adam Optimizer { get; }
    readonly Tensor[] inputs;    // each (B, in)
    readonly Tensor[] targets;   // each (B, out)
    long steps;
    readonly TensorArena? arena;

    public MlpTrainStep(int[]? sizes = null, int batch = 256, ulong seed = 1, double lr = 1e-3, int batches = 16, bool reuseBuffers = true)
    {
        sizes ??= [64, 256, 256, 16];
        var rng = new Rng(seed);
        Store = new ParameterStore(DType.F32);
        Model = new Mlp(Store, "", sizes, Activation.Relu, rng);
        Optimizer = new Adam(Store, lr);
        if (batches < 1) throw new ArgumentOutOfRangeException(nameof(batches), $"batches must be >= 1, got {batches}.");
        arena = reuseBuffers ? new TensorArena() : null;
        inputs = new Tensor[batches]; targets = new Tensor[batches];
        for (int i = 0; i < batches; i++)
        {
            inputs[i] = Tensor.Randn(rng, [batch, sizes[0]]);
            targets[i] = Tensor.Randn(rng, [batch, sizes[^1]]);
        }
    }

    /// <summary>One training step; returns the loss before the update.</summary>
    public float Step()
    {
        if (arena is null) return StepCore();
        using (arena.Use()) return StepCore();   // the loss value is read inside the scope
    }

    float StepCore()
    {
        // Gradients start at zero: the store is built zeroed and every step's Adam pass clears
        // them as it reads them (Step(zeroGrad: true)), which saves a separate ZeroGrad sweep.
        int k = (int)(steps++ % inputs.Length);
        try
        {
            var loss = F.MseLoss(Model.Forward(inputs[k]), targets[k]);
            loss.Backward();
            Optimizer.Step(zeroGrad: true);
            return loss.F32[0];
        }
        catch { Store.ZeroGrad(); throw; }   // a failed step must not leave partial gradients for the next
    }
}
