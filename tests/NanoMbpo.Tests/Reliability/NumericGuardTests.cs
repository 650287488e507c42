// NumericGuard: a NaN/Inf gradient is reported with the step, the network and the first parameter holding it;
// finite gradients give their norm and a grad-norm summary for the log; subnormal floats are flushed to zero
// (vector body and scalar tail, both signs) while normal values, zeros, NaN and Inf are kept, so GEMM inputs and
// weights that decay toward zero never carry subnormals into the SIMD kernels.
using NanoMbpo.Diagnostics;
using Xunit;

namespace NanoMbpo.Tests.Reliability;

public sealed class NumericGuardTests
{
    static ParameterStore Store()
    {
        var s = new ParameterStore();
        s.Create("enc.weight", 2, 3);
        s.Create("head.bias", 4);
        return s;
    }

    [Fact]
    public void ANonFiniteGradientNamesStepNetworkAndFirstParameter()
    {
        var s = Store();
        s["head.bias"].Grad!.F32[2] = float.NaN;
        var guard = new NumericGuard(s, "critic");
        var ex = Assert.Throws<NonFiniteException>(() => guard.CheckGradients(7));
        Assert.Contains("critic", ex.Message);
        Assert.Contains("step 7", ex.Message);
        Assert.Contains("'head.bias'", ex.Message);
        Assert.Contains("flat index 2", ex.Message);
        Assert.Contains("NaN", ex.Message);

        s["enc.weight"].Grad!.F32[5] = float.PositiveInfinity; // the first parameter in store order is named
        ex = Assert.Throws<NonFiniteException>(() => guard.CheckGradients(8));
        Assert.Contains("'enc.weight'", ex.Message);
        Assert.Contains("flat index 5", ex.Message);
    }

    [Fact]
    public void ANonFiniteLossNamesStepAndNetwork()
    {
        var ex = Assert.Throws<NonFiniteException>(() => new NumericGuard(Store(), "policy").CheckLoss(double.NegativeInfinity, 12));
        Assert.Contains("policy", ex.Message);
        Assert.Contains("step 12", ex.Message);
    }

    [Fact]
    public void FiniteGradientsGiveTheirNormAndASummary()
    {
        var s = Store();
        s["enc.weight"].Grad!.F32[0] = 3;
        s["head.bias"].Grad!.F32[3] = 4;
        var guard = new NumericGuard(s, "policy");
        Assert.Equal(5, guard.CheckGradients(1), 6);
        s["head.bias"].Grad!.F32[3] = 0;
        Assert.Equal(3, guard.CheckGradients(2), 6);
        Assert.Equal("grad-norm mean 4 max 5", guard.Summary());
        Assert.Equal("", guard.Summary()); // reset after each summary
    }

    [Fact]
    public void SubnormalsAreFlushedAndEverythingElseKept()
    {
        var x = new float[37];
        var rng = new Random(3);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        int[] subs = [0, 5, 8, 17, 31, 36];           // vector lanes and the scalar tail
        foreach (int i in subs) x[i] = (i % 2 == 0 ? 1 : -1) * float.Epsilon * (i + 1);
        x[1] = float.NaN; x[2] = float.PositiveInfinity; x[3] = -0f; x[4] = 1.17549435E-38f; // smallest normal
        var before = (float[])x.Clone();
        Assert.Equal(subs.Length, NumericGuard.FlushSubnormals(x));
        for (int i = 0; i < x.Length; i++)
        {
            if (subs.Contains(i)) Assert.Equal(0f, x[i]);
            else Assert.Equal(BitConverter.SingleToInt32Bits(before[i]), BitConverter.SingleToInt32Bits(x[i]));
        }
        Assert.DoesNotContain(x, float.IsSubnormal);
        Assert.Equal(0, NumericGuard.FlushSubnormals(x));
    }

    [Fact]
    public void WeightsDecayingTowardZeroNeverReachTheGemmAsSubnormals()
    {
        var s = Store();
        s.Data<float>().Fill(1e-30f);
        var guard = new NumericGuard(s, "policy");
        int flushed = 0;
        for (int step = 0; step < 40; step++)   // 1e-30 halved 40 times passes through the subnormal range
        {
            foreach (ref float w in s.Data<float>()) w *= 0.5f;
            flushed += guard.FlushSubnormalWeights();
            Assert.DoesNotContain(s.Data<float>().ToArray(), float.IsSubnormal);
        }
        Assert.True(flushed > 0, "the decay never produced a subnormal, so the test proved nothing");
        // A GEMM over the flushed weights sees exact zeros.
        var w2 = s["enc.weight"];
        var y = F.MatMul(Tensor.Ones([1, 2]), w2);
        Assert.All(y.F32.ToArray(), v => Assert.Equal(0f, v));
    }
}
