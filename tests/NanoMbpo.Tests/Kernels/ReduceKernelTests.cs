// Parity tests for Reduce.cs (sum/mean/max over the last axis with backward, column sums) and
// BiasAdd.cs, on the warp-32 and warp-4 CPU devices and CUDA if present.
using ILGPU.Runtime;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class ReduceKernelTests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    const double Tol = 1e-4;
    static readonly (int R, int C)[] Shapes = [(3, 5), (4, 77)];

    [Fact] public void Reductions_CpuWarp32() => Check(fx.CpuWarp32);
    [Fact] public void Reductions_CpuWarp4() => Check(fx.CpuWarp4);
    [CudaFact] public void Reductions_Cuda() => Check(fx.Cuda);

    static void Check(Accelerator acc)
    {
        var k = KernelLauncher.For(acc);
        foreach (var (R, C) in Shapes)
        {
            int n = R * C;
            var x = Ref.Randn(n, 41 + C);
            x[C + C / 2] = 10f; x[C + C - 1] = 10f; // tie in row 1: the first index wins
            var dyRow = Ref.Randn(R, 42);
            var bias = Ref.Randn(C, 43);
            using var bx = acc.Upload(x); using var bdyRow = acc.Upload(dyRow); using var bbias = acc.Upload(bias);
            using var bsum = acc.Zeros<float>(R); using var bmean = acc.Zeros<float>(R); using var bmax = acc.Zeros<float>(R);
            using var barg = acc.Zeros<int>(R); using var bcol = acc.Zeros<float>(C); using var bbiasOut = acc.Zeros<float>(n);
            using var bdsum = acc.Zeros<float>(n); using var bdmean = acc.Zeros<float>(n); using var bdmax = acc.Zeros<float>(n);
            using var bdbias = acc.Zeros<float>(C);
            k.SumLastAxis(bsum.View, bx.View, R, C);
            k.SumLastAxis(bmean.View, bx.View, R, C, mean: true);
            k.MaxLastAxis(bmax.View, barg.View, bx.View, R, C);
            k.SumLastAxisBackward(bdsum.View, bdyRow.View, R, C);
            k.SumLastAxisBackward(bdmean.View, bdyRow.View, R, C, mean: true);
            k.MaxLastAxisBackward(bdmax.View, bdyRow.View, barg.View, R, C);
            k.ColumnSum(bcol.View, bx.View, R, C);
            k.BiasAdd(bbiasOut.View, bx.View, bbias.View, R, C);
            k.BiasAddBackward(bdbias.View, bx.View, R, C); // x stands in for dy

            var esum = new double[R]; var emean = new double[R]; var emax = new double[R]; var earg = new int[R];
            var ecol = new double[C]; var ebias = new double[n];
            var edsum = new double[n]; var edmean = new double[n]; var edmax = new double[n];
            for (int r = 0; r < R; r++)
            {
                emax[r] = double.NegativeInfinity;
                for (int c = 0; c < C; c++)
                {
                    int i = r * C + c;
                    esum[r] += x[i]; ecol[c] += x[i]; ebias[i] = x[i] + (double)bias[c];
                    if (x[i] > emax[r]) { emax[r] = x[i]; earg[r] = c; }
                    edsum[i] = dyRow[r]; edmean[i] = dyRow[r] / (double)C;
                }
                emean[r] = esum[r] / C;
                edmax[r * C + earg[r]] = dyRow[r];
            }
            string s = $"({R},{C})";
            Ref.AssertClose(esum, bsum.Read(R), Tol, "sum " + s, floor: 1);
            Ref.AssertClose(emean, bmean.Read(R), Tol, "mean " + s, floor: 1);
            Ref.AssertClose(emax, bmax.Read(R), Tol, "max " + s, floor: 1);
            Assert.Equal(earg, barg.Read(R));
            Ref.AssertClose(edsum, bdsum.Read(n), 1e-5, "sum backward " + s);
            Ref.AssertClose(edmean, bdmean.Read(n), 1e-5, "mean backward " + s);
            Ref.AssertClose(edmax, bdmax.Read(n), 1e-5, "max backward " + s);
            Ref.AssertClose(ecol, bcol.Read(C), Tol, "column sum " + s, floor: 1);
            Ref.AssertClose(ebias, bbiasOut.Read(n), 1e-5, "bias_add " + s);
            Ref.AssertClose(ecol, bdbias.Read(C), Tol, "bias_add backward " + s, floor: 1);
        }
    }
}
