// Small helpers the algorithm files share: building ReLU MLPs in a ParameterStore, freezing a
// network (its parameters stop requiring gradients, so a loss that flows *through* it, like SAC's
// actor loss through the critics, computes no weight gradients for it), copying a tensor row into a
// span, and the loss guard that turns a NaN into an error naming the step and the network.
// Tested through the algorithm tests (tests/NanoMbpo.Rl.Tests/).
using NanoMbpo.NN;

namespace NanoMbpo.Rl;

public static class Nets
{
    /// <summary>A ReLU MLP in → hidden… → out with torch's default Linear init.</summary>
    public static Mlp Mlp(ParameterStore store, string prefix, int inDim, int[] hidden, int outDim, Rng? rng, Activation output = Activation.Identity)
        => new(store, prefix, [inDim, .. hidden, outDim], Activation.Relu, rng, output);

    /// <summary>Stops gradients into every parameter of <paramref name="store"/> until disposed. Ops
    /// check RequiresGrad when their backward runs, so call Backward inside the scope.</summary>
    public static FrozenScope Freeze(ParameterStore store)
    {
        foreach (var p in store.Parameters) p.RequireGrad(false);
        return new FrozenScope(store);
    }

    public readonly struct FrozenScope(ParameterStore store) : IDisposable
    {
        public void Dispose() { foreach (var p in store.Parameters) p.RequireGrad(true); }
    }

    /// <summary>Computes a scalar loss and its value; a NaN or Inf (in the value, or caught by an op
    /// on the way) becomes NonFiniteException naming the step and the network.</summary>
    public static Tensor Loss(long step, string network, Func<Tensor> compute, out double value)
    {
        Tensor loss;
        try { loss = compute(); }
        catch (NonFiniteException e) { throw new NonFiniteException($"step {step}: the {network} loss is not finite ({e.Message})"); }
        value = loss.Item();
        if (!double.IsFinite(value)) throw new NonFiniteException($"step {step}: the {network} loss is {(double.IsNaN(value) ? "NaN" : "Inf")}.");
        return loss;
    }
}
