// Activation choice for Mlp and the transformer feed-forward block, mapped onto the elementwise ops.
// Gradient checks: catalog "nn_mlp_*" (each activation) and the ops' own cases.
namespace NanoMbpo.NN;

public enum Activation { Identity, Relu, Tanh, Gelu, Silu, Sigmoid }

public static class Activations
{
    public static Tensor Apply(Activation a, Tensor x) => a switch
    {
        Activation.Identity => x,
        Activation.Relu => F.Relu(x),
        Activation.Tanh => F.Tanh(x),
        Activation.Gelu => F.Gelu(x),
        Activation.Silu => F.Silu(x),
        Activation.Sigmoid => F.Sigmoid(x),
        _ => throw new ArgumentOutOfRangeException(nameof(a), $"unknown activation {a}."),
    };

    /// <summary>The initialiser gain that matches an activation (torch.nn.init.calculate_gain).</summary>
    public static Nonlinearity AsNonlinearity(Activation a) => a switch
    {
        Activation.Relu => Nonlinearity.Relu,
        Activation.Tanh => Nonlinearity.Tanh,
        Activation.Sigmoid => Nonlinearity.Sigmoid,
        Activation.Gelu => Nonlinearity.Gelu,
        Activation.Silu => Nonlinearity.Silu,
        _ => Nonlinearity.Linear,
    };

    /// <summary>Parses "relu", "tanh", "gelu", "silu", "sigmoid", "identity"/"none" (case-insensitive).</summary>
    public static Activation Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "relu" => Activation.Relu,
        "tanh" => Activation.Tanh,
        "gelu" => Activation.Gelu,
        "silu" or "swish" => Activation.Silu,
        "sigmoid" => Activation.Sigmoid,
        "identity" or "none" or "linear" => Activation.Identity,
        _ => throw new ArgumentException($"unknown activation '{name}'; expected relu, tanh, gelu, silu, sigmoid or identity.", nameof(name)),
    };
}
