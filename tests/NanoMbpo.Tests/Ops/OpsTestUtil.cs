// Helpers for the op tests: seeded inputs, a plain double broadcasting reference and closeness checks.
using Xunit;

namespace NanoMbpo.Tests.Ops;

internal static class OpsTestUtil
{
    public static Tensor Rand(int seed, int[] shape, double lo = -1, double hi = 1, DType dt = DType.F64)
        => Tensor.Uniform(new Rng((ulong)seed), shape, lo, hi, dt);

    /// <summary>numpy broadcasting done the slow, obvious way: per output index, per operand index.</summary>
    public static (double[] Out, int[] Shape) BroadcastRef(Tensor a, Tensor b, Func<double, double, double> f)
    {
        int r = Math.Max(a.Rank, b.Rank);
        int[] Pad(int[] s) => [.. Enumerable.Repeat(1, r - s.Length), .. s];
        int[] sa = Pad(a.Shape), sb = Pad(b.Shape);
        var so = new int[r];
        for (int i = 0; i < r; i++) so[i] = Math.Max(sa[i], sb[i]);
        int n = ShapeUtil.Numel(so);
        var o = new double[n];
        var idx = new int[r];
        for (int k = 0; k < n; k++)
        {
            int rem = k;
            for (int i = r - 1; i >= 0; i--) { idx[i] = rem % so[i]; rem /= so[i]; }
            int ia = 0, ib = 0;
            for (int i = 0; i < r; i++)
            {
                ia = ia * sa[i] + (sa[i] == 1 ? 0 : idx[i]);
                ib = ib * sb[i] + (sb[i] == 1 ? 0 : idx[i]);
            }
            o[k] = f(a.GetFlat(ia), b.GetFlat(ib));
        }
        return (o, so);
    }

    public static void Close(double[] expected, Tensor actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual.GetFlat(i);
            if (double.IsNaN(e)) { Assert.True(double.IsNaN(a), $"{what}[{i}]: expected NaN, got {a}"); continue; }
            Assert.True(Math.Abs(e - a) <= atol + rtol * Math.Abs(e), $"{what}[{i}]: expected {e}, got {a} (diff {Math.Abs(e - a):G3})");
        }
    }

    public static double[] Map(Tensor x, Func<double, double> f) => x.ToDoubleArray().Select(f).ToArray();
}
