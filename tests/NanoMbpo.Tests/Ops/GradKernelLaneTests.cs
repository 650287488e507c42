// The pointwise gradient kernels run as Vector512 on AVX-512 machines and Vector256 elsewhere, so
// one of the two never runs in a given test run's op tests. This checks every kernel's vector forms
// lane by lane against its scalar form (vectors without hardware support are emulated, still exact).
using System.Runtime.Intrinsics;
using Xunit;

namespace NanoMbpo.Tests.Ops;

public class GradKernelLaneTests
{
    static void Check<K>(K k, string name, double lo = -3, double hi = 3) where K : struct, IGradKernel
    {
        var rng = new Rng(61);
        var x = new double[16]; var aux = new double[16]; var g = new double[16];
        for (int i = 0; i < 16; i++) { x[i] = lo + (hi - lo) * rng.NextDouble(); aux[i] = 0.1 + 0.8 * rng.NextDouble(); g[i] = rng.NextDouble() - 0.5; }
        if (lo < -0.5) { x[0] = 0; x[1] = -0.5; } // kinks: relu/abs at 0, clamp at its bound
        var v512 = k.Grad(Vector512.Create(x, 0), Vector512.Create(aux, 0), Vector512.Create(g, 0));
        var v256 = k.Grad(Vector256.Create(x, 8), Vector256.Create(aux, 8), Vector256.Create(g, 8));
        var xf = x.Select(v => (float)v).ToArray(); var af = aux.Select(v => (float)v).ToArray(); var gf = g.Select(v => (float)v).ToArray();
        var f512 = k.Grad(Vector512.Create(xf, 0), Vector512.Create(af, 0), Vector512.Create(gf, 0));
        var f256 = k.Grad(Vector256.Create(xf, 8), Vector256.Create(af, 8), Vector256.Create(gf, 8));
        for (int i = 0; i < 8; i++) Assert.True(k.Grad(x[i], aux[i], g[i]) == v512[i], $"{name} f64 Vector512 lane {i}");
        for (int i = 0; i < 4; i++) Assert.True(k.Grad(x[8 + i], aux[8 + i], g[8 + i]) == v256[i], $"{name} f64 Vector256 lane {i}");
        for (int i = 0; i < 16; i++) Assert.True(Math.Abs(k.Grad(xf[i], af[i], gf[i]) - f512[i]) <= 1e-7f, $"{name} f32 Vector512 lane {i}");
        for (int i = 0; i < 8; i++) Assert.True(Math.Abs(k.Grad(xf[8 + i], af[8 + i], gf[8 + i]) - f256[i]) <= 1e-7f, $"{name} f32 Vector256 lane {i}");
    }

    [Fact]
    public void VectorKernelsMatchScalar()
    {
        Check(new ReluOp(), "relu");
        Check(new TanhOp(), "tanh");
        Check(new SigmoidOp(), "sigmoid");
        Check(new ExpOp(), "exp");
        Check(new LogOp(), "log", 0.1, 3);
        Check(new SqrtOp(), "sqrt", 0.1, 3);
        Check(new AbsOp(), "abs");
        Check(new ClampOp(-0.5, 0.5), "clamp");
        Check(new SiluOp(), "silu");
        Check(new SoftplusOp(), "softplus", -30, 30);
    }
}
