// The MLP training-step workload shared by `nanombpo bench mlp` and bench/ MlpStepBench: an MLP
// 64-256-256-16 (ReLU) on a fixed batch of 256 (inputs and targets drawn once), one step =
// forward, MSE loss, backward, Adam. The model, optimizer and batch are built once, so a step
// allocates only the activations and their gradients the ops create.
// Run: `nanombpo bench mlp --threads 2`; tests: tests/NanoMbpo.Tests/NN/MlpTrainStepTests.cs.
using NanoMbpo.Optim;

namespace NanoMbpo.NN;

public sealed class MlpTrainStep
{
    public ParameterStore Store { get; }
    public Mlp Model { get; }
    public Adam Optimizer { get; }
    public Tensor Input { get; }    // (B, in)
    public Tensor Target { get; }   // (B, out)

    public MlpTrainStep(int[]? sizes = null, int batch = 256, ulong seed = 1, double lr = 1e-3)
    {
        sizes ??= [64, 256, 256, 16];
        var rng = new Rng(seed);
        Store = new ParameterStore(DType.F32);
        Model = new Mlp(Store, "", sizes, Activation.Relu, rng);
        Optimizer = new Adam(Store, lr);
        Input = Tensor.Randn(rng, [batch, sizes[0]]);
        Target = Tensor.Randn(rng, [batch, sizes[^1]]);
    }

    /// <summary>One training step; returns the loss before the update.</summary>
    public float Step()
    {
        Store.ZeroGrad();
        var loss = F.MseLoss(Model.Forward(Input), Target);
        loss.Backward();
        Optimizer.Step();
        return loss.F32[0];
    }
}
