// `nanombpo parity --device D --gemm-sweep`: the device SGEMM kernel against a double-precision host
// reference at every small shape (M, N ≤ 9, K ≤ 6), all four transposes, beta 0 and 1, and at offset
// and padded-leading-dimension views: the shapes where tile-edge bugs live. One line per mismatch
// (first 20), then "gemm sweep: N passed, M failed". Tests: tests/NanoMbpo.Tests/Dispatch/ParityCommandTests.cs.
using ILGPU;
using ILGPU.Runtime;
using NanoMbpo.Kernels;

namespace NanoMbpo.Trainer.Commands;

public static class GemmSweep
{
    public static (int Passed, int Failed) Run(Device device, TextWriter w, int maxMn = 9, int maxK = 6)
    {
        var acc = device.Accelerator ?? throw new ArgumentException("the gemm sweep needs an accelerator.", nameof(device));
        var l = KernelLauncher.For(acc);
        var rng = new Random(20261122);
        int passed = 0, failed = 0;
        foreach (bool tA in new[] { false, true })
        foreach (bool tB in new[] { false, true })
        foreach (float beta in new[] { 0f, 1f })
        for (int m = 1; m <= maxMn; m++)
        for (int n = 1; n <= maxMn; n++)
        for (int k = 1; k <= maxK; k++)
        {
            // Views start at an offset inside a larger buffer, as parameter gradients do.
            int off = (m * 7 + n * 3 + k) % 5 * 16;
            var a = Rand(rng, m * k); var b = Rand(rng, k * n); var c0 = Rand(rng, m * n);
            using var ab = acc.Allocate1D(a); using var bb = acc.Allocate1D(b);
            using var cb = acc.Allocate1D<float>(off + m * n + 16);
            cb.MemSetToZero();
            cb.View.SubView(off, m * n).CopyFromCPU(c0);
            l.Sgemm(cb.View.SubView(off, m * n), ab.View, bb.View, m, n, k, tA, tB, 1f, beta);
            acc.Synchronize();
            var c = new float[m * n];
            cb.View.SubView(off, m * n).CopyToCPU(c);
            double diff = 0, scale = 0;
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = beta * (double)c0[i * n + j];
                for (int p = 0; p < k; p++)
                    s += (double)(tA ? a[p * m + i] : a[i * k + p]) * (tB ? b[j * k + p] : b[p * n + j]);
                diff = Math.Max(diff, Math.Abs(c[i * n + j] - s)); scale = Math.Max(scale, Math.Abs(s));
            }
            // Relative to the largest entry, so near-zero sums from cancellation do not trip it.
            double worst = diff / Math.Max(scale, 1e-30);
            if (worst <= 1e-5) { passed++; continue; }
            if (++failed <= 20)
                w.WriteLine($"gemm sweep FAIL: M={m} N={n} K={k} transA={tA} transB={tB} beta={beta} offset={off}: max rel err {worst:E2}");
        }
        w.WriteLine($"gemm sweep: {passed} passed, {failed} failed");
        return (passed, failed);
    }

    static float[] Rand(Random r, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(r.NextDouble() * 2 - 1);
        return x;
    }
}
