// Initialisers: bounds and moments match torch.nn.init's formulas; same seed, same values.
using NanoMbpo.NN;
using Xunit;

namespace NanoMbpo.Tests.NN;

public class InitTests
{
    static (double Mean, double Std, double MaxAbs) Stats(Tensor t)
    {
        var a = t.ToDoubleArray();
        double mean = a.Average(), std = Math.Sqrt(a.Select(v => (v - mean) * (v - mean)).Average());
        return (mean, std, a.Max(Math.Abs));
    }

    [Fact]
    public void FormulasMatchTorch()
    {
        var w = Tensor.Zeros([200, 300], DType.F64);   // fan_in 300, fan_out 200
        var rng = new Rng(1);
        NanoMbpo.NN.Init.XavierUniform(w, rng);
        double a = Math.Sqrt(6.0 / 500);
        var s = Stats(w);
        Assert.True(s.MaxAbs <= a && s.MaxAbs > 0.99 * a);
        Assert.Equal(a / Math.Sqrt(3), s.Std, 2);

        NanoMbpo.NN.Init.XavierNormal(w, rng);
        Assert.Equal(Math.Sqrt(2.0 / 500), Stats(w).Std, 3);

        NanoMbpo.NN.Init.KaimingUniform(w, rng, Nonlinearity.Relu);
        double b = Math.Sqrt(2) * Math.Sqrt(3.0 / 300);
        s = Stats(w);
        Assert.True(s.MaxAbs <= b && s.MaxAbs > 0.99 * b);

        NanoMbpo.NN.Init.KaimingNormal(w, rng, Nonlinearity.Relu);
        Assert.Equal(Math.Sqrt(2.0 / 300), Stats(w).Std, 3);

        NanoMbpo.NN.Init.Bert(w, rng);
        s = Stats(w);
        Assert.Equal(0.02, s.Std, 3);
        Assert.Equal(0.0, s.Mean, 3);

        NanoMbpo.NN.Init.Ones(w);
        Assert.All(w.ToDoubleArray(), v => Assert.Equal(1.0, v));
        NanoMbpo.NN.Init.Zeros(w);
        Assert.All(w.ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(5.0 / 3, NanoMbpo.NN.Init.Gain(Nonlinearity.Tanh));
    }

    [Fact]
    public void SeededAndRankChecked()
    {
        var a = Tensor.Zeros(4, 5); var b = Tensor.Zeros(4, 5);
        NanoMbpo.NN.Init.KaimingUniform(a, new Rng(9)); NanoMbpo.NN.Init.KaimingUniform(b, new Rng(9));
        Assert.Equal(a.ToFloatArray(), b.ToFloatArray());
        var e = Assert.Throws<ArgumentException>(() => NanoMbpo.NN.Init.XavierUniform(Tensor.Zeros(5), new Rng(1)));
        Assert.Contains("rank", e.Message);
    }
}
