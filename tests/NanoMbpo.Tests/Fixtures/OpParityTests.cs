// PyTorch parity of the float32 ops: each test runs our op on a fixture's inputs, compares the output with
// torch's (≤ 1e-5 relative), seeds backward with the fixture's r (loss = sum(out * r); losses seed with 1) and
// compares every input gradient (≤ 1e-4 relative). Each runs on the CPU and again on ILGPU's CPU accelerator
// (the GPU kernels' code), both against torch. Error metric: see Parity.cs.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.FixtureParity"
using Xunit;
using Xunit.Abstractions;
using static NanoMbpo.Tests.FixtureParity.Parity;

namespace NanoMbpo.Tests.FixtureParity;

public sealed class OpParityTests(ITestOutputHelper log)
{
    [Theory]
    [InlineData("matmul", false, false, false)]
    [InlineData("matmul_nt", false, true, false)]
    [InlineData("matmul_tn", true, false, false)]
    [InlineData("matmul_batched", false, false, false)]
    [InlineData("matmul_batched_tt", true, true, false)]
    [InlineData("matmul", false, false, true)]
    [InlineData("matmul_nt", false, true, true)]
    [InlineData("matmul_tn", true, false, true)]
    [InlineData("matmul_batched", false, false, true)]
    [InlineData("matmul_batched_tt", true, true, true)]
    public void MatMulMatchesTorch(string name, bool transA, bool transB, bool onIlgpuCpu)
    {
        using var f = Load(name);
        var a = Leaf(f, "a", onIlgpuCpu);   // (M,K) | (K,M) with transA | (2,M,K) | (2,K,M) batched with transA
        var b = Leaf(f, "b", onIlgpuCpu);   // (K,N) | (N,K) with transB | (2,K,N) | (2,N,K) batched with transB
        var y = F.MatMul(a, b, transA, transB);
        AssertClose(f, "out", OnCpu(y, onIlgpuCpu), ForwardTol, log);
        y.Backward(On(F32(f, "r"), onIlgpuCpu));
        AssertClose(f, "da", a.Grad?.To(Device.Cpu), GradTol, log);
        AssertClose(f, "db", b.Grad?.To(Device.Cpu), GradTol, log);
    }

    /// <summary>With <paramref name="onIlgpuCpu"/>, t moved to ILGPU's CPU accelerator (the GPU kernels' code).</summary>
    static Tensor On(Tensor t, bool onIlgpuCpu) => onIlgpuCpu ? t.To(Device.IlgpuCpu) : t;

    static Tensor Leaf(NanoMbpo.IO.SafeTensorsFile f, string name, bool onIlgpuCpu) => On(F32(f, name), onIlgpuCpu).RequireGrad();

    /// <summary>A result back on the CPU for comparison, after checking it was computed where asked.</summary>
    static Tensor OnCpu(Tensor y, bool onIlgpuCpu)
    {
        Assert.Equal(onIlgpuCpu ? DeviceKind.IlgpuCpu : DeviceKind.Cpu, y.Device.Kind);
        return y.To(Device.Cpu);
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
    [InlineData("softmax", false)]
    [InlineData("log_softmax", false)]
    [InlineData("gelu", false)]
    [InlineData("softmax", true)]
    [InlineData("log_softmax", true)]
    [InlineData("gelu", true)]
    public void UnaryRowOpMatchesTorch(string name, bool onIlgpuCpu)
    {
        // softmax/log_softmax fixtures offset row 3 by +40, so an unstabilised exp would overflow there.
        using var f = Load(name);
        var x = Leaf(f, "x", onIlgpuCpu);   // (R,C)
        var y = name switch
        {
            "softmax" => F.Softmax(x, -1),
            "log_softmax" => F.LogSoftmax(x, -1),
            _ => F.Gelu(x),
        };
        AssertClose(f, "out", OnCpu(y, onIlgpuCpu), ForwardTol, log);
        y.Backward(On(F32(f, "r"), onIlgpuCpu));
        AssertClose(f, "dx", x.Grad?.To(Device.Cpu), GradTol, log);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LayerNormMatchesTorch(bool onIlgpuCpu)
    {
        using var f = Load("layer_norm");
        double eps = double.Parse(f.Metadata["eps"], System.Globalization.CultureInfo.InvariantCulture);
        CheckXWeightBias(f, (x, w, b) => F.LayerNorm(x, w, b, eps), onIlgpuCpu);   // x (B,T,C), weight and bias (C)
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LinearReluMatchesTorch(bool onIlgpuCpu)
    {
        using var f = Load("linear_relu");
        CheckXWeightBias(f, F.LinearRelu, onIlgpuCpu);   // x (N,In), weight (Out,In), bias (Out)
    }

    /// <summary>out = op(x, weight, bias) and the three gradients of sum(out · r) against the fixture.</summary>
    void CheckXWeightBias(NanoMbpo.IO.SafeTensorsFile f, Func<Tensor, Tensor, Tensor, Tensor> op, bool onIlgpuCpu)
    {
        var x = Leaf(f, "x", onIlgpuCpu); var weight = Leaf(f, "weight", onIlgpuCpu); var bias = Leaf(f, "bias", onIlgpuCpu);
        var y = op(x, weight, bias);
        AssertClose(f, "out", OnCpu(y, onIlgpuCpu), ForwardTol, log);
        y.Backward(On(F32(f, "r"), onIlgpuCpu));
        AssertClose(f, "dx", x.Grad?.To(Device.Cpu), GradTol, log);
        AssertClose(f, "dweight", weight.Grad?.To(Device.Cpu), GradTol, log);
        AssertClose(f, "dbias", bias.Grad?.To(Device.Cpu), GradTol, log);
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
        var q = Leaf(f, "q", onIlgpuCpu);   // (B,NH,T,HS); attention_causal_cross: (2,2,4,4)
        var k = Leaf(f, "k", onIlgpuCpu);   // (B,NH,S,HS); (2,2,6,4)
        var v = Leaf(f, "v", onIlgpuCpu);   // (B,NH,S,HV); (2,2,6,3)
        var mask = On(I32(f, "key_padding_mask"), onIlgpuCpu);   // (B,S), 1 = padded key
        var y = F.ScaledDotProductAttention(q, k, v, mask, causal);
        AssertClose(f, "out", OnCpu(y, onIlgpuCpu), ForwardTol, log);
        y.Backward(On(F32(f, "r"), onIlgpuCpu));
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CrossEntropyMatchesTorch(bool onIlgpuCpu)
    {
        using var f = Load("cross_entropy");
        var logits = Leaf(f, "logits", onIlgpuCpu);   // (N,C)
        var loss = F.CrossEntropy(logits, On(I32(f, "targets"), onIlgpuCpu));
        AssertClose(f, "out", OnCpu(loss, onIlgpuCpu), ForwardTol, log);
        loss.Backward();
        AssertClose(f, "dlogits", logits.Grad?.To(Device.Cpu), GradTol, log);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GaussianNllMatchesTorch(bool onIlgpuCpu)
    {
        using var f = Load("gaussian_nll");
        var mean = Leaf(f, "mean", onIlgpuCpu);       // (4,3)
        var logVar = Leaf(f, "logvar", onIlgpuCpu);   // (4,3)
        var target = Leaf(f, "target", onIlgpuCpu);   // (4,3)
        var loss = F.GaussianNll(mean, logVar, target);
        var lossCpu = OnCpu(loss, onIlgpuCpu);
        AssertClose(f, "out", lossCpu, ForwardTol, log);
        // torch.nn.GaussianNLLLoss(full=False) itself, not only the script's formula.
        AssertClose(f, "torch_gaussian_nll_loss", lossCpu, ForwardTol, log);
        loss.Backward();
        AssertClose(f, "dmean", mean.Grad?.To(Device.Cpu), GradTol, log);
        AssertClose(f, "dlogvar", logVar.Grad?.To(Device.Cpu), GradTol, log);
        AssertClose(f, "dtarget", target.Grad?.To(Device.Cpu), GradTol, log);
    }
}
