// PyTorch parity of the float32 ops: each test runs our op on a fixture's inputs, compares the output with
// torch's (≤ 1e-5 relative), seeds backward with the fixture's r (loss = sum(out * r); losses seed with 1) and
// compares every input gradient (≤ 1e-4 relative). Error metric: see Parity.cs.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.FixtureParity"
using Xunit;
using Xunit.Abstractions;
using static NanoMbpo.Tests.FixtureParity.Parity;

namespace NanoMbpo.Tests.FixtureParity;

public sealed class OpParityTests(ITestOutputHelper log)
{
    [Theory]
    [InlineData("matmul", false, false)]
    [InlineData("matmul_nt", false, true)]
    [InlineData("matmul_tn", true, false)]
    [InlineData("matmul_batched", false, false)]
    [InlineData("matmul_batched_tt", true, true)]
    public void MatMulMatchesTorch(string name, bool transA, bool transB)
    {
        using var f = Load(name);
        var a = F32(f, "a", true);   // (M,K) | (K,M) with transA | (2,M,K) | (2,K,M) batched with transA
        var b = F32(f, "b", true);   // (K,N) | (N,K) with transB | (2,K,N) | (2,N,K) batched with transB
        var y = F.MatMul(a, b, transA, transB);
        AssertClose(f, "out", y, ForwardTol, log);
        y.Backward(F32(f, "r"));
        AssertClose(f, "da", a.Grad, GradTol, log);
        AssertClose(f, "db", b.Grad, GradTol, log);
    }

    [Fact]
    public void LinearWithoutBiasMatchesTorchMatMulNt()
    {
        // x Wᵀ with W stored (out, in) is exactly matmul_nt's a @ bᵀ with b stored (N,K).
        using var f = Load("matmul_nt");
        var x = F32(f, "a", true);   // (3,4)
        var w = F32(f, "b", true);   // (5,4)
        var y = F.Linear(x, w);
        AssertClose(f, "out", y, ForwardTol, log, "linear out");
        y.Backward(F32(f, "r"));
        AssertClose(f, "da", x.Grad, GradTol, log, "linear dx");
        AssertClose(f, "db", w.Grad, GradTol, log, "linear dweight");
    }

    [Theory]
    [InlineData("softmax")]
    [InlineData("log_softmax")]
    [InlineData("gelu")]
    public void UnaryRowOpMatchesTorch(string name)
    {
        // softmax/log_softmax fixtures offset row 3 by +40, so an unstabilised exp would overflow there.
        using var f = Load(name);
        var x = F32(f, "x", true);   // (R,C)
        var y = name switch
        {
            "softmax" => F.Softmax(x, -1),
            "log_softmax" => F.LogSoftmax(x, -1),
            _ => F.Gelu(x),
        };
        AssertClose(f, "out", y, ForwardTol, log);
        y.Backward(F32(f, "r"));
        AssertClose(f, "dx", x.Grad, GradTol, log);
    }

    [Fact]
    public void LayerNormMatchesTorch()
    {
        using var f = Load("layer_norm");
        double eps = double.Parse(f.Metadata["eps"], System.Globalization.CultureInfo.InvariantCulture);
        CheckXWeightBias(f, (x, w, b) => F.LayerNorm(x, w, b, eps));   // x (B,T,C), weight and bias (C)
    }

    [Fact]
    public void LinearReluMatchesTorch()
    {
        using var f = Load("linear_relu");
        CheckXWeightBias(f, F.LinearRelu);   // x (N,In), weight (Out,In), bias (Out)
    }

    /// <summary>out = op(x, weight, bias) and the three gradients of sum(out · r) against the fixture.</summary>
    void CheckXWeightBias(NanoMbpo.IO.SafeTensorsFile f, Func<Tensor, Tensor, Tensor, Tensor> op)
    {
        var x = F32(f, "x", true); var weight = F32(f, "weight", true); var bias = F32(f, "bias", true);
        var y = op(x, weight, bias);
        AssertClose(f, "out", y, ForwardTol, log);
        y.Backward(F32(f, "r"));
        AssertClose(f, "dx", x.Grad, GradTol, log);
        AssertClose(f, "dweight", weight.Grad, GradTol, log);
        AssertClose(f, "dbias", bias.Grad, GradTol, log);
    }

    /// <summary>On the CPU and on ILGPU's CPU accelerator (the GPU attention kernels' code), both against torch.</summary>
    [Theory]
    [InlineData("attention", false, false)]
    [InlineData("attention_causal_cross", true, false)]
    [InlineData("attention", false, true)]
    [InlineData("attention_causal_cross", true, true)]
    public void AttentionFixtureMatchesTorch(string name, bool causal, bool onIlgpuCpu)
    {
        using var f = Load(name);
        var dev = onIlgpuCpu ? Device.IlgpuCpu : Device.Cpu;
        Tensor Leaf(string n) => (onIlgpuCpu ? F32(f, n).To(dev) : F32(f, n)).RequireGrad();
        var q = Leaf("q");   // (B,NH,T,HS); attention_causal_cross: (2,2,4,4)
        var k = Leaf("k");   // (B,NH,S,HS); (2,2,6,4)
        var v = Leaf("v");   // (B,NH,S,HV); (2,2,6,3)
        var mask = I32(f, "key_padding_mask");   // (B,S), 1 = padded key
        var y = F.ScaledDotProductAttention(q, k, v, onIlgpuCpu ? mask.To(dev) : mask, causal);
        Assert.Equal(dev, y.Device);
        AssertClose(f, "out", y.To(Device.Cpu), ForwardTol, log);
        y.Backward(onIlgpuCpu ? F32(f, "r").To(dev) : F32(f, "r"));
        AssertClose(f, "dq", q.Grad?.To(Device.Cpu), GradTol, log);
        AssertClose(f, "dk", k.Grad?.To(Device.Cpu), GradTol, log);
        AssertClose(f, "dv", v.Grad?.To(Device.Cpu), GradTol, log);
    }

    [Fact]
    public void AttentionProbabilitiesMatchTorchThroughIdentityValues()
    {
        // The fused op does not expose its probabilities; with v = identity (S = HV) its output IS the
        // probability matrix, so torch's stored attn (B,NH,T,T) is checked too, masked zeros included.
        using var f = Load("attention");
        var q = F32(f, "q");
        var k = F32(f, "k");
        int B = q.Shape[0], NH = q.Shape[1], T = q.Shape[2];
        var eye = Tensor.Zeros(B, NH, T, T);
        for (int bh = 0; bh < B * NH; bh++)
            for (int i = 0; i < T; i++) eye.F32[(bh * T + i) * T + i] = 1;
        var p = F.ScaledDotProductAttention(q, k, eye, I32(f, "key_padding_mask"));
        AssertClose(f, "attn", p, ForwardTol, log);
    }

    [Fact]
    public void CrossEntropyMatchesTorch()
    {
        using var f = Load("cross_entropy");
        var logits = F32(f, "logits", true);   // (N,C)
        var loss = F.CrossEntropy(logits, I32(f, "targets"));
        AssertClose(f, "out", loss, ForwardTol, log);
        loss.Backward();
        AssertClose(f, "dlogits", logits.Grad, GradTol, log);
    }

    [Fact]
    public void GaussianNllMatchesTorch()
    {
        using var f = Load("gaussian_nll");
        var mean = F32(f, "mean", true);       // (4,3)
        var logVar = F32(f, "logvar", true);   // (4,3)
        var target = F32(f, "target", true);   // (4,3)
        var loss = F.GaussianNll(mean, logVar, target);
        AssertClose(f, "out", loss, ForwardTol, log);
        // torch.nn.GaussianNLLLoss(full=False) itself, not only the script's formula.
        AssertClose(f, "torch_gaussian_nll_loss", loss, ForwardTol, log);
        loss.Backward();
        AssertClose(f, "dmean", mean.Grad, GradTol, log);
        AssertClose(f, "dlogvar", logVar.Grad, GradTol, log);
        AssertClose(f, "dtarget", target.Grad, GradTol, log);
    }
}
