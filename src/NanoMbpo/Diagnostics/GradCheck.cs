// Finite-difference gradient check in float64: the analytic gradient of L = sum(out ⊙ R) (R a fixed
// random tensor, so every output element matters) against central differences, element by element.
// Pass: |analytic − numeric| ≤ 1e-6 + 1e-5·|numeric| for every element of every checked tensor.
// Run: `nanombpo gradcheck` or tests/NanoMbpo.Tests/Core/GradCheckTests.cs.
namespace NanoMbpo;

public sealed record GradCheckResult(string Name, string Shapes, int Elements, double MaxAbsError, double MaxRelError, double WorstRatio, string? Error)
{
    /// <summary>WorstRatio is max |a−n| / (1e-6 + 1e-5·|n|); the check passes when it is ≤ 1.</summary>
    public bool Passed => Error is null && WorstRatio <= 1.0;
}

public static class GradCheck
{
    public const double AbsTol = 1e-6, RelTol = 1e-5;

    public static GradCheckResult Run(GradCase c, ulong seed = 20261122, double h = 1e-6)
    {
        try
        {
            var rng = new Rng(seed);
            var p = c.Build(rng, DType.F64);
            foreach (var t in p.Checked)
            {
                if (t.DType != DType.F64) throw new InvalidOperationException($"checked tensor {t} is not float64.");
                t.ZeroGrad();
            }
            var outT = p.Forward();
            var r = Tensor.Uniform(new Rng(seed ^ 0x5151), outT.Shape, -1, 1, DType.F64);
            if (!outT.RequiresGrad) throw new InvalidOperationException("the output does not depend on any checked tensor.");
            outT.Backward(r);

            int elements = 0;
            double maxAbs = 0, maxRel = 0, worst = 0;
            foreach (var t in p.Checked)
            {
                var analytic = t.Grad?.ToDoubleArray() ?? new double[t.Length];
                var x = t.F64;
                for (int i = 0; i < t.Length; i++)
                {
                    double orig = x[i];
                    x[i] = orig + h; double lp = Loss(p, r);
                    x[i] = orig - h; double lm = Loss(p, r);
                    x[i] = orig;
                    double num = (lp - lm) / (2 * h), err = Math.Abs(analytic[i] - num);
                    if (!double.IsFinite(analytic[i]) || !double.IsFinite(num)) err = double.PositiveInfinity;
                    maxAbs = Math.Max(maxAbs, err);
                    maxRel = Math.Max(maxRel, err / Math.Max(Math.Abs(num), 1e-8));
                    worst = Math.Max(worst, err / (AbsTol + RelTol * Math.Abs(num)));
                    elements++;
                }
            }
            return new GradCheckResult(c.Name, c.Shapes, elements, maxAbs, maxRel, worst, null);
        }
        catch (Exception e)
        {
            return new GradCheckResult(c.Name, c.Shapes, 0, double.NaN, double.NaN, double.NaN, e.GetType().Name + ": " + e.Message);
        }
    }

    static double Loss(GradProblem p, Tensor r)
    {
        using var _ = Autograd.NoGrad();
        var o = p.Forward();
        return Cpu.Vec.DotDouble<double>(o.F64, r.F64);
    }
}
