// Parity tests for the elementwise kernels (Elementwise.cs, Gelu.cs, BiasAdd.cs) against double
// references, forward and backward, on ILGPU's CPU accelerator and, when present, CUDA.
using ILGPU.Runtime;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class ElementwiseKernelTests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    const double Tol = 1e-5;
    const int R = 7, C = 37; // 259 elements: no multiple of any group size

    [Fact] public void Unary_CpuWarp32() => CheckUnary(fx.CpuWarp32);
    [CudaFact] public void Unary_Cuda() => CheckUnary(fx.Cuda);
    [Fact] public void Binary_CpuWarp32() => CheckBinary(fx.CpuWarp32);
    [CudaFact] public void Binary_Cuda() => CheckBinary(fx.Cuda);

    static double Sig(double x) => 1 / (1 + Math.Exp(-x));

    static void CheckUnary(Accelerator acc)
    {
        var k = KernelLauncher.For(acc);
        var x = Ref.Randn(R * C, 1, 3f);
        var xPos = Ref.Uniform(R * C, 2, 0.05f, 5f);
        var dy = Ref.Randn(R * C, 3);
        Run<ReluOp>(k, x, dy, v => Math.Max(v, 0), (v, _) => v > 0 ? 1 : 0);
        Run<GeluOp>(k, x, dy, v => 0.5 * v * Ref.Erfc(-v / Math.Sqrt(2)),
            (v, _) => 0.5 * Ref.Erfc(-v / Math.Sqrt(2)) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI));
        // tanh, sigmoid and exp differentiate through their float output y, as the CPU twins do.
        Run<TanhOp>(k, x, dy, Math.Tanh, (_, y) => 1 - y * y);
        Run<SigmoidOp>(k, x, dy, Sig, (_, y) => y * (1 - y));
        Run<SiluOp>(k, x, dy, v => v * Sig(v), (v, _) => Sig(v) * (1 + v * (1 - Sig(v))));
        Run<SoftplusOp>(k, x, dy, v => Math.Max(v, 0) + Math.Log(1 + Math.Exp(-Math.Abs(v))), (v, _) => Sig(v));
        Run<ExpOp>(k, x, dy, Math.Exp, (_, y) => y);
        Run<LogOp>(k, xPos, dy, Math.Log, (v, _) => 1 / v);
    }

    static void Run<TOp>(KernelLauncher k, float[] x, float[] dy, Func<double, double> f, Func<double, double, double> df)
        where TOp : struct, IUnaryOp
    {
        var acc = k.Accelerator;
        int n = x.Length;
        using var bx = acc.Upload(x);
        using var bdy = acc.Upload(dy);
        using var by = acc.Zeros<float>(n);
        using var bdx = acc.Zeros<float>(n);
        k.UnaryForward<TOp>(by.View, bx.View);
        k.UnaryBackward<TOp>(bdx.View, bdy.View, bx.View, by.View);
        var y = by.Read(n);
        var dx = bdx.Read(n);
        var ey = new double[n];
        var edx = new double[n];
        for (int i = 0; i < n; i++) { ey[i] = f(x[i]); edx[i] = dy[i] * df(x[i], y[i]); }
        Ref.AssertClose(ey, y, Tol, typeof(TOp).Name + " forward");
        // gelu' crosses zero (x = -0.75) by cancelling O(1) terms, so float rounding of ~1e-7 is
        // unavoidable there: relative error with a floor of 1e-2 (absolute 1e-7 near zero crossings).
        Ref.AssertClose(edx, dx, Tol, typeof(TOp).Name + " backward", floor: 1e-2);
    }

    static void CheckBinary(Accelerator acc)
    {
        var k = KernelLauncher.For(acc);
        BinaryCase<AddOp>(k, (a, b) => a + b, (a, b) => 1, (a, b) => 1);
        BinaryCase<SubOp>(k, (a, b) => a - b, (a, b) => 1, (a, b) => -1);
        BinaryCase<MulOp>(k, (a, b) => a * b, (a, b) => b, (a, b) => a);
        BinaryCase<DivOp>(k, (a, b) => a / b, (a, b) => 1 / b, (a, b) => -a / (b * b));
    }

    static void BinaryCase<TOp>(KernelLauncher k, Func<double, double, double> f,
        Func<double, double, double> fa, Func<double, double, double> fb) where TOp : struct, IBinaryOp
    {
        var acc = k.Accelerator;
        int n = R * C;
        var a = Ref.Randn(n, 11);
        var dy = Ref.Randn(n, 12);
        foreach (var mode in new[] { Broadcast.None, Broadcast.Row, Broadcast.Column })
        {
            int nb = mode == Broadcast.None ? n : mode == Broadcast.Row ? C : R;
            // b kept away from 0 so division is well conditioned.
            var b = Ref.Uniform(nb, 13 + (int)mode, 0.5f, 2f);
            using var ba = acc.Upload(a); using var bb = acc.Upload(b); using var bdy = acc.Upload(dy);
            using var by = acc.Zeros<float>(n); using var bda = acc.Zeros<float>(n); using var bdb = acc.Zeros<float>(nb);
            k.BinaryForward<TOp>(by.View, ba.View, bb.View, R, C, mode);
            k.BinaryBackward<TOp>(bda.View, bdb.View, bdy.View, ba.View, bb.View, R, C, mode);
            var ey = new double[n]; var eda = new double[n]; var edb = new double[nb];
            for (int r = 0; r < R; r++)
                for (int c = 0; c < C; c++)
                {
                    int i = r * C + c, j = mode == Broadcast.None ? i : mode == Broadcast.Row ? c : r;
                    ey[i] = f(a[i], b[j]); eda[i] = dy[i] * fa(a[i], b[j]); edb[j] += dy[i] * fb(a[i], b[j]);
                }
            string what = $"{typeof(TOp).Name} {mode}";
            Ref.AssertClose(ey, by.Read(n), Tol, what + " forward");
            Ref.AssertClose(eda, bda.Read(n), Tol, what + " da");
            // db of a broadcast operand is a sum: reduction tolerance.
            Ref.AssertClose(edb, bdb.Read(nb), mode == Broadcast.None ? Tol : 1e-4, what + " db", floor: 1);
        }
    }
}
