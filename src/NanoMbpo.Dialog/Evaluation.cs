// Runs a policy for N seeded episodes and summarises success, turns, return, slot F1 and hang-ups with 95%
// confidence intervals (Wilson for rates, Student t / normal for means). Used by `nanombpo eval`.
// Tested by tests/NanoMbpo.Tests/Dialog/EnvTests.cs and CommandTests.cs.
namespace NanoMbpo.Dialog;

/// <summary>A mean with its 95% confidence interval.</summary>
public sealed record Estimate(double Mean, double Low, double High);

public sealed record EvalReport(string Policy, int Episodes, Estimate Success, Estimate Turns, Estimate Return, Estimate SlotF1, Estimate HangUp);

public static class Evaluation
{
    public static EvalReport Run(IDialogPolicy policy, int episodes, ulong seed, IReadOnlyList<PizzaRecord>? goals = null, Menu? menu = null)
    {
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "expected at least one episode");
        var env = new KinPizzaEnv(menu, goals: goals);
        var success = new double[episodes];
        var turns = new double[episodes];
        var returns = new double[episodes];
        var f1 = new double[episodes];
        var hang = new double[episodes];
        for (int e = 0; e < episodes; e++)
        {
            ulong epSeed = DialogRng.Derive(seed, (ulong)e);
            env.Reset(epSeed);
            var prng = new DialogRng(epSeed ^ 0x5EED5EED5EED5EEDUL);
            StepResult r;
            double ret = 0;
            do
            {
                r = env.Step(policy.Act(env, prng));
                ret += r.Reward;
            } while (!r.Done);
            success[e] = r.Info.Success ? 1 : 0;
            hang[e] = r.Info.HungUp ? 1 : 0;
            turns[e] = r.Info.Turns;
            returns[e] = ret;
            f1[e] = r.Info.SlotF1;
        }
        return new EvalReport(policy.Name, episodes, Wilson(success), MeanCi(turns), MeanCi(returns), MeanCi(f1), Wilson(hang));
    }

    /// <summary>Wilson score interval for a rate from 0/1 outcomes.</summary>
    public static Estimate Wilson(IReadOnlyList<double> outcomes)
    {
        int n = outcomes.Count;
        double p = outcomes.Sum() / n, z = 1.959963984540054, z2 = z * z;
        double denom = 1 + z2 / n, centre = (p + z2 / (2 * n)) / denom;
        double half = z * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denom;
        return new Estimate(p, p == 0 ? 0 : Math.Max(0, centre - half), p == 1 ? 1 : Math.Min(1, centre + half));
    }

    /// <summary>Mean with a Student-t interval (normal quantile beyond 30 degrees of freedom).</summary>
    public static Estimate MeanCi(IReadOnlyList<double> xs)
    {
        int n = xs.Count;
        double mean = xs.Average();
        if (n < 2) return new Estimate(mean, mean, mean);
        double var = xs.Sum(x => (x - mean) * (x - mean)) / (n - 1);
        double half = TQuantile975(n - 1) * Math.Sqrt(var / n);
        return new Estimate(mean, mean - half, mean + half);
    }

    static readonly double[] s_t975 =
    {
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    };

    static double TQuantile975(int df) => df <= s_t975.Length ? s_t975[df - 1] : 1.959963984540054;
}
