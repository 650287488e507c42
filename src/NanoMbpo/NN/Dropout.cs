// nn.Dropout: inverted dropout with probability P, active only in training mode; the mask comes
// from the module's own Rng stream (replaceable, so a gradient check can reseed it before every
// forward pass). Gradient check: catalog "nn_dropout".
namespace NanoMbpo.NN;

public sealed class Dropout : Module
{
    public double P { get; }
    public Rng Rng { get; set; }

    public Dropout(ParameterStore store, double p, Rng rng) : base(store, "")
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: p must be in [0, 1), got {p}.");
        ArgumentNullException.ThrowIfNull(rng);
        P = p; Rng = rng;
    }

    public Tensor Forward(Tensor x) => F.Dropout(x, P, Rng, Training);

    [GradCases(Op = "nn_dropout", Cpu = nameof(Forward), Tolerance = ToleranceClass.Pointwise,
        Composite = "F.Dropout on the device", NoParity = "device dropout draws its mask from the counter-based random kernel, not the CPU rng stream (mask statistics are unit-tested)")]
    static IEnumerable<GradCase> Cases()
    {
        yield return GradCase.Sized("nn_dropout", [[4, 5]], (rng, dt, z) =>
        {
            var ps = new ParameterStore(dt);
            var m = new Dropout(ps, 0.3, new Rng(1));
            var x = Tensor.Uniform(rng, z.Shape(4, 5), -1, 1, dt).RequireGrad();
            return new GradProblem([x], () => { m.Rng = new Rng(77); return m.Forward(x); });
        }, "x(4,5) p=0.3");
    }
}
