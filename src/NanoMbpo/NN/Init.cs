// Parameter initialisers, each drawing from a caller-supplied seeded Rng so a model built twice
// with the same seed is bit-identical. Fans follow torch.nn.init: for a weight (out, in, ...)
// fan_in = in · receptive field, fan_out = out · receptive field. Written in place into the
// parameter's storage (a view into the flat ParameterStore buffer).
// Tested by tests/NanoMbpo.Tests/NN/InitTests.cs (moments and bounds, determinism).
namespace NanoMbpo.NN;

public enum Nonlinearity { Linear, Relu, LeakyRelu, Tanh, Sigmoid, Gelu, Silu }

public static class Init
{
    /// <summary>torch.nn.init.calculate_gain. Gelu and Silu have no torch gain; we use 1 (as for linear).</summary>
    public static double Gain(Nonlinearity nl, double negativeSlope = 0.01) => nl switch
    {
        Nonlinearity.Relu => Math.Sqrt(2.0),
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1 + negativeSlope * negativeSlope)),
        Nonlinearity.Tanh => 5.0 / 3.0,
        _ => 1.0,
    };

    public static (int FanIn, int FanOut) Fans(Tensor w)
    {
        if (w.Rank < 2) throw new ArgumentException($"init: fan in/out need a weight of rank >= 2, got {w}.", nameof(w));
        int receptive = w.Rank > 2 ? ShapeUtil.Numel(w.Shape.AsSpan(2)) : 1;
        return (w.Shape[1] * receptive, w.Shape[0] * receptive);
    }

    public static void Uniform(Tensor w, Rng rng, double lo, double hi)
    {
        for (int i = 0; i < w.Length; i++) w.SetFlat(i, rng.Uniform(lo, hi));
    }

    public static void Normal(Tensor w, Rng rng, double mean = 0.0, double std = 1.0)
    {
        for (int i = 0; i < w.Length; i++) w.SetFlat(i, mean + std * rng.Normal());
    }

    /// <summary>BERT's initialiser: normal(0, 0.02) for Linear and Embedding weights.</summary>
    public static void Bert(Tensor w, Rng rng, double std = 0.02) => Normal(w, rng, 0.0, std);

    public static void Constant(Tensor w, double value)
    {
        for (int i = 0; i < w.Length; i++) w.SetFlat(i, value);
    }
    public static void Zeros(Tensor w) => Constant(w, 0.0);
    public static void Ones(Tensor w) => Constant(w, 1.0);

    /// <summary>U(−a, a) with a = gain·√(6 / (fan_in + fan_out)).</summary>
    public static void XavierUniform(Tensor w, Rng rng, double gain = 1.0)
    {
        var (fi, fo) = Fans(w);
        double a = gain * Math.Sqrt(6.0 / (fi + fo));
        Uniform(w, rng, -a, a);
    }

    /// <summary>N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static void XavierNormal(Tensor w, Rng rng, double gain = 1.0)
    {
        var (fi, fo) = Fans(w);
        Normal(w, rng, 0.0, gain * Math.Sqrt(2.0 / (fi + fo)));
    }

    /// <summary>U(−b, b) with b = gain·√(3 / fan_in) (mode fan_in, torch's default). Relu gives gain √2.</summary>
    public static void KaimingUniform(Tensor w, Rng rng, Nonlinearity nl = Nonlinearity.Relu, double negativeSlope = 0.01)
    {
        var (fi, _) = Fans(w);
        double b = Gain(nl, negativeSlope) * Math.Sqrt(3.0 / fi);
        Uniform(w, rng, -b, b);
    }

    /// <summary>N(0, std²) with std = gain / √fan_in.</summary>
    public static void KaimingNormal(Tensor w, Rng rng, Nonlinearity nl = Nonlinearity.Relu, double negativeSlope = 0.01)
    {
        var (fi, _) = Fans(w);
        Normal(w, rng, 0.0, Gain(nl, negativeSlope) / Math.Sqrt(fi));
    }

    /// <summary>torch.nn.Linear's default: weight and bias U(−1/√in, 1/√in)
    /// (kaiming_uniform with a = √5 works out to this bound).</summary>
    public static void TorchLinear(Tensor weight, Tensor? bias, Rng rng)
    {
        var (fi, _) = Fans(weight);
        double bound = fi > 0 ? 1.0 / Math.Sqrt(fi) : 0.0;
        Uniform(weight, rng, -bound, bound);
        if (bias is not null) Uniform(bias, rng, -bound, bound);
    }
}
