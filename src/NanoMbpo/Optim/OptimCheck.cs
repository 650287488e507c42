// The optimizer rows of `nanombpo gradcheck`: Adam, Adam with L2 and AdamW steps checked element
// by element against an independent reference that writes the bias-corrected moments in closed
// form, m̂_t = Σᵢ (1−β1)β1^(t−i) gᵢ / (1−β1ᵗ) and v̂_t likewise, with the same tolerance as the
// gradient checks (|a − r| ≤ 1e-6 + 1e-5·|r|); float64 and the float32 SIMD path (sizes that leave a
// scalar tail). Tested by tests/NanoMbpo.Tests/NN/OptimTests.cs.
namespace NanoMbpo.Optim;

public static class OptimCheck
{
    public static IEnumerable<GradCheckResult> RunAll()
    {
        yield return Run("adam_closed_form", DType.F64, 0.0, false);
        yield return Run("adam_l2_closed_form", DType.F64, 0.1, false);
        yield return Run("adamw_closed_form", DType.F64, 0.1, true);
        yield return Run("adamw_f32_simd_closed_form", DType.F32, 0.1, true);
    }

    public static GradCheckResult Run(string name, DType dtype, double weightDecay, bool decoupled, int steps = 5)
    {
        int[][] shapes = [[7, 5], [37]];   // 35 + 37 values: SIMD bodies and scalar tails
        string shapeText = string.Join(" ", shapes.Select(s => "p" + ShapeUtil.Format(s))) + $" {steps} steps";
        try
        {
            const double lr = 0.05, b1 = 0.9, b2 = 0.99, eps = 1e-8;
            var rng = new Rng(4242);
            var store = new ParameterStore(dtype);
            foreach (var (s, i) in shapes.Select((s, i) => (s, i))) store.Create("p" + i, s);
            var ps = store.Parameters;
            foreach (var p in ps) for (int j = 0; j < p.Length; j++) p.SetFlat(j, rng.Uniform(-1, 1));
            var opt = decoupled ? new AdamW(store, lr, b1, b2, eps, weightDecay) : new Adam(store, lr, b1, b2, eps, weightDecay);

            // Reference state per element: the parameter and the history of effective gradients.
            var refP = ps.Select(p => p.ToDoubleArray()).ToArray();
            var hist = ps.Select(p => new List<double>[p.Length].Select(_ => new List<double>()).ToArray()).ToArray();
            double maxAbs = 0, maxRel = 0, worst = 0; int elements = 0;
            for (int t = 1; t <= steps; t++)
            {
                for (int k = 0; k < ps.Count; k++)
                    for (int j = 0; j < ps[k].Length; j++)
                    {
                        double g = rng.Uniform(-1, 1) * (1 + k);   // gradients of different scales per tensor
                        ps[k].Grad!.SetFlat(j, g);
                        double pPrev = refP[k][j];
                        double ge = decoupled ? g : g + weightDecay * pPrev;
                        hist[k][j].Add(ge);
                        double mHat = 0, vHat = 0;
                        for (int i = 1; i <= t; i++)
                        {
                            double gi = hist[k][j][i - 1];
                            mHat += (1 - b1) * Math.Pow(b1, t - i) * gi;
                            vHat += (1 - b2) * Math.Pow(b2, t - i) * gi * gi;
                        }
                        mHat /= 1 - Math.Pow(b1, t);
                        vHat /= 1 - Math.Pow(b2, t);
                        double decayed = decoupled ? pPrev * (1 - lr * weightDecay) : pPrev;
                        refP[k][j] = decayed - lr * mHat / (Math.Sqrt(vHat) + eps);
                    }
                opt.Step();
                for (int k = 0; k < ps.Count; k++)
                    for (int j = 0; j < ps[k].Length; j++)
                    {
                        // The float32 path is compared with the reference it starts from each step
                        // (its own rounded parameter), so only one step's rounding counts.
                        double r = refP[k][j], a = ps[k].GetFlat(j), err = Math.Abs(a - r);
                        if (!double.IsFinite(a)) err = double.PositiveInfinity;
                        maxAbs = Math.Max(maxAbs, err);
                        maxRel = Math.Max(maxRel, err / Math.Max(Math.Abs(r), 1e-8));
                        worst = Math.Max(worst, err / (GradCheck.AbsTol + GradCheck.RelTol * Math.Abs(r)));
                        elements++;
                        if (dtype == DType.F32) refP[k][j] = a;
                    }
            }
            return new GradCheckResult(name, shapeText, elements, maxAbs, maxRel, worst, null);
        }
        catch (Exception e)
        {
            return new GradCheckResult(name, shapeText, 0, double.NaN, double.NaN, double.NaN, e.GetType().Name + ": " + e.Message);
        }
    }
}
