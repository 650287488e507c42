// Finite-difference gradient check in float64: the analytic gradient of L = sum(out ⊙ R) (R a fixed
// random tensor, so every output element matters) against central differences, element by element.
// Pass: |analytic − numeric| ≤ 1e-6 + 1e-5·|numeric| for every element of every checked tensor.
// RunAccumulation checks that backward passes add into gradients rather than overwrite them: every
// checked leaf's gradient is pre-filled with random values and every leaf is also consumed by a second
// branch (Σ x ⊙ S); then grad_after must equal grad_before + analytic + S.
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

    /// <summary>Accumulation check: the analytic gradient of the plain run (the one <see cref="Run"/>
    /// compares with finite differences) against a second run of the same problem in which every checked
    /// leaf starts with a random gradient G0 and also feeds a second branch Σ x ⊙ S of the loss, so that
    /// grad_after = G0 + analytic + S must hold elementwise. WorstRatio is max |after − expected| /
    /// (1e-9 · (1 + |expected|)); an overwriting backward loses G0 (or S) and fails by orders of magnitude.</summary>
    public static GradCheckResult RunAccumulation(GradCase c, ulong seed = 20261122)
    {
        try
        {
            var p = c.Build(new Rng(seed), DType.F64);
            foreach (var t in p.Checked) t.ZeroGrad();
            var outP = p.Forward();
            var r = Tensor.Uniform(new Rng(seed ^ 0x5151), outP.Shape, -1, 1, DType.F64);
            outP.Backward(r);
            var plain = p.Checked.Select(t => t.Grad?.ToDoubleArray() ?? new double[t.Length]).ToArray();

            var q = c.Build(new Rng(seed), DType.F64);
            var fill = new Rng(seed ^ 0xACC0);
            var before = new double[q.Checked.Length][];
            var side = new Tensor[q.Checked.Length];
            for (int i = 0; i < q.Checked.Length; i++)
            {
                var t = q.Checked[i];
                before[i] = Tensor.Uniform(fill, t.Shape, -2, 2, DType.F64).ToDoubleArray();
                if (t.Grad is null) t.Grad = Tensor.FromArray((double[])before[i].Clone(), t.Shape);
                else for (int j = 0; j < t.Length; j++) t.Grad.SetFlat(j, before[i][j]);   // a view into a flat store
                side[i] = Tensor.Uniform(fill, t.Shape, -1, 1, DType.F64);
            }
            var loss = F.SumAll(F.Mul(q.Forward(), r));
            for (int i = 0; i < q.Checked.Length; i++) loss = F.Add(loss, F.SumAll(F.Mul(q.Checked[i], side[i])));
            loss.Backward();

            int elements = 0;
            double maxAbs = 0, maxRel = 0, worst = 0;
            for (int i = 0; i < q.Checked.Length; i++)
            {
                var after = q.Checked[i].Grad?.ToDoubleArray() ?? new double[q.Checked[i].Length];
                var s = side[i].F64;
                for (int j = 0; j < after.Length; j++)
                {
                    double expected = before[i][j] + plain[i][j] + s[j], err = Math.Abs(after[j] - expected);
                    if (!double.IsFinite(after[j])) err = double.PositiveInfinity;
                    maxAbs = Math.Max(maxAbs, err);
                    maxRel = Math.Max(maxRel, err / Math.Max(Math.Abs(expected), 1e-8));
                    worst = Math.Max(worst, err / (1e-9 * (1 + Math.Abs(expected))));
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
