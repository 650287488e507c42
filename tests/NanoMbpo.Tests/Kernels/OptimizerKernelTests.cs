// Parity tests for Adam.cs (Adam and AdamW, several steps), Polyak.cs and Random.cs (host reference
// of the counter-based hash; results independent of the device's launch geometry; moments sane).
using ILGPU.Runtime;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class OptimizerKernelTests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    const int N = 1001;

    [Fact] public void AdamPolyak_CpuWarp32() => CheckAdamPolyak(fx.CpuWarp32);
    [CudaFact] public void AdamPolyak_Cuda() => CheckAdamPolyak(fx.Cuda);
    [Fact] public void Random_CpuWarp32() => CheckRandom(fx.CpuWarp32);
    [CudaFact] public void Random_Cuda() => CheckRandom(fx.Cuda);

    static void CheckAdamPolyak(Accelerator acc)
    {
        var kl = KernelLauncher.For(acc);
        foreach (bool decoupled in new[] { false, true })
        {
            var p = Ref.Randn(N, 81); var m = new double[N]; var v = new double[N];
            var ep = p.Select(x => (double)x).ToArray();
            using var bp = acc.Upload(p); using var bm = acc.Zeros<float>(N); using var bv = acc.Zeros<float>(N);
            const double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
            for (int step = 1; step <= 3; step++)
            {
                var g = Ref.Randn(N, 90 + step);
                using var bg = acc.Upload(g);
                kl.AdamStep(bp.View, bm.View, bv.View, bg.View,
                    AdamParams.For(step, lr, b1, b2, eps, wd, decoupled));
                double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(b2, step);
                for (int i = 0; i < N; i++)
                {
                    double gi = g[i];
                    if (decoupled) ep[i] -= lr * wd * ep[i]; else gi += wd * ep[i];
                    m[i] = b1 * m[i] + (1 - b1) * gi;
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                    ep[i] -= lr * (m[i] / bc1) / (Math.Sqrt(v[i] / bc2) + eps);
                }
            }
            Ref.AssertClose(ep, bp.Read(N), 1e-5, decoupled ? "adamw" : "adam", floor: 1e-2);
        }

        var target = Ref.Randn(N, 82); var source = Ref.Randn(N, 83);
        using var bt = acc.Upload(target); using var bs = acc.Upload(source);
        kl.Polyak(bt.View, bs.View, 0.005f);
        var et = new double[N];
        for (int i = 0; i < N; i++) et[i] = 0.995 * target[i] + 0.005 * source[i];
        Ref.AssertClose(et, bt.Read(N), 1e-5, "polyak", floor: 1e-2);
    }

    static void CheckRandom(Accelerator acc)
    {
        var kl = KernelLauncher.For(acc);
        const ulong seed = 1234567;
        const long offset = 77;
        using var bu = acc.Zeros<float>(N); using var bn = acc.Zeros<float>(N);
        kl.RandomUniform(bu.View, seed, offset, -2f, 3f);
        kl.RandomNormal(bn.View, seed, offset, 0.5f, 2f);
        var u = bu.Read(N); var n = bn.Read(N);
        var eu = new double[N]; var en = new double[N];
        for (int i = 0; i < N; i++)
        {
            ulong c = 2UL * (ulong)(offset + i);
            eu[i] = -2 + 5 * (RandomKernels.SplitMix(seed, c) >> 40) / 16777216.0;
            double u1 = (RandomKernels.SplitMix(seed, c) >> 40) / 16777216.0 + 1 / 16777216.0;
            double u2 = (RandomKernels.SplitMix(seed, c + 1) >> 40) / 16777216.0;
            en[i] = 0.5 + 2 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        Ref.AssertClose(eu, u, 1e-5, "uniform fill", floor: 1);
        Ref.AssertClose(en, n, 1e-4, "normal fill", floor: 1);
        Assert.InRange(u.Average(), 0.3, 0.7); // mean of U[-2,3) is 0.5
        Assert.InRange(n.Average(), 0.2, 0.8);
        double sd = Math.Sqrt(n.Select(x => (x - 0.5) * (x - 0.5)).Average());
        Assert.InRange(sd, 1.8, 2.2);

        // A sub-range filled alone equals the same slice of the full fill: values depend on the
        // element's counter, not on the launch.
        using var part = acc.Zeros<float>(10);
        kl.RandomNormal(part.View, seed, offset + 500, 0.5f, 2f);
        Assert.Equal(n.AsSpan(500, 10).ToArray(), part.Read(10));
    }
}
