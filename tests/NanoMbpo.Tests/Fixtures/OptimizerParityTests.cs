// PyTorch parity of Adam / AdamW (torch.optim, float32 store), and of AdamW after clip_grad_norm_, each on the
// CPU and with the step (and clipping) on ILGPU's CPU accelerator: three steps from param0 with the fixture's
// grad1..grad3 written into the store's flat gradient buffer. Compared per step: the parameter (≤ 1e-5 relative,
// as a forward value) and the step's update param<t> − param<t−1> (≤ 1e-4 relative: the update is ~lr, so
// checking only the parameter would hide a 1e-3 error in it); after step 3 the moments exp_avg / exp_avg_sq
// (≤ 1e-5). The fixture parameter sits after a zero-gradient parameter, so the flat layout is exercised too.
// Metric: Parity.cs. Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.FixtureParity"
using System.Globalization;
using NanoMbpo.Optim;
using Xunit;
using Xunit.Abstractions;
using static NanoMbpo.Tests.FixtureParity.Parity;

namespace NanoMbpo.Tests.FixtureParity;

public sealed class OptimizerParityTests(ITestOutputHelper log)
{
    [Theory]
    [InlineData("adam", false)]
    [InlineData("adamw", false)]
    [InlineData("adam", true)]
    [InlineData("adamw", true)]
    public void ThreeStepsMatchTorch(string name, bool onIlgpuCpu)
    {
        using var f = Load(name);
        double Meta(string key) => double.Parse(f.Metadata[key], CultureInfo.InvariantCulture);
        var store = new ParameterStore(DType.F32);
        var other = store.Create("other", 5);   // stays 0: zero gradient, zero moments, decay of 0
        var p = store.Create("p", f["param0"].ShapeArray());   // (3,4)
        f["param0"].ReadFloat32(p.F32);
        double lr = Meta("lr"), b1 = Meta("beta1"), b2 = Meta("beta2"), eps = Meta("eps"), wd = Meta("weight_decay");
        Adam opt = name == "adamw" ? new AdamW(store, lr, b1, b2, eps, wd) : new Adam(store, lr, b1, b2, eps, wd);
        Assert.Equal(name == "adamw", opt.Decoupled);

        var prev = f["param0"].ReadFloat64();
        for (int t = 1; t <= 3; t++)
        {
            var before = p.ToDoubleArray();
            opt.ZeroGrad();
            f[$"grad{t}"].ReadFloat32(p.Grad!.F32);   // a view into the store's flat gradient buffer
            OnDevice(store, onIlgpuCpu, () => opt.Step());
            AssertClose(f, $"param{t}", p, ForwardTol, log);
            var expected = f[$"param{t}"].ReadFloat64();
            var ours = p.ToDoubleArray();
            AssertClose($"{name}/update{t}", [.. ours.Zip(before, (a, b) => a - b)], [.. expected.Zip(prev, (a, b) => a - b)], GradTol, log);
            prev = expected;
        }
        Assert.All(other.F32.ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(3, opt.StepCount);
        AssertClose(f, "exp_avg3", Slice(opt.ExpAvg<float>(), p), ForwardTol, log);
        AssertClose(f, "exp_avg_sq3", Slice(opt.ExpAvgSq<float>(), p), ForwardTol, log);
    }

    /// <summary>AdamW over two parameters with torch.nn.utils.clip_grad_norm_ before every step (each step
    /// clips): the global norm before clipping (≤ 1e-5), both parameters (≤ 1e-5) and each step's update
    /// (≤ 1e-4) against torch.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamWWithGradNormClippingMatchesTorch(bool onIlgpuCpu)
    {
        using var f = Load("adamw_clip");
        double Meta(string key) => double.Parse(f.Metadata[key], CultureInfo.InvariantCulture);
        var store = new ParameterStore(DType.F32);
        var a = store.Create("a", f["a0"].ShapeArray());   // (3,4)
        var b = store.Create("b", f["b0"].ShapeArray());   // (5)
        f["a0"].ReadFloat32(a.F32); f["b0"].ReadFloat32(b.F32);
        var opt = new AdamW(store, Meta("lr"), Meta("beta1"), Meta("beta2"), Meta("eps"), Meta("weight_decay"));
        double[] prev = [.. f["a0"].ReadFloat64(), .. f["b0"].ReadFloat64()];
        for (int t = 1; t <= 3; t++)
        {
            double[] before = [.. a.ToDoubleArray(), .. b.ToDoubleArray()];
            opt.ZeroGrad();
            f[$"grad_a{t}"].ReadFloat32(a.Grad!.F32); f[$"grad_b{t}"].ReadFloat32(b.Grad!.F32);
            double norm = 0;
            OnDevice(store, onIlgpuCpu, () => { norm = GradClip.ClipGradNorm(store, Meta("max_norm")); opt.Step(); });
            AssertClose($"adamw_clip/norm{t}", [norm], f[$"norm{t}"].ReadFloat64(), ForwardTol, log);
            AssertClose(f, $"a{t}", a, ForwardTol, log);
            AssertClose(f, $"b{t}", b, ForwardTol, log);
            double[] expected = [.. f[$"a{t}"].ReadFloat64(), .. f[$"b{t}"].ReadFloat64()];
            double[] ours = [.. a.ToDoubleArray(), .. b.ToDoubleArray()];
            AssertClose($"adamw_clip/update{t}", [.. ours.Zip(before, (x, y) => x - y)], [.. expected.Zip(prev, (x, y) => x - y)], GradTol, log);
            prev = expected;
        }
    }

    /// <summary>Runs <paramref name="step"/> with the store on ILGPU's CPU accelerator (the GPU kernels: the
    /// gradient-norm reduction, the scale and the Adam kernel, moments kept on the device between steps)
    /// when asked, then brings the store back so the test reads and writes it on the host.</summary>
    static void OnDevice(ParameterStore store, bool onIlgpuCpu, Action step)
    {
        if (!onIlgpuCpu) { step(); return; }
        store.MoveTo(Device.IlgpuCpu);
        step();
        store.MoveTo(Device.Cpu);
    }

    /// <summary>The part of a flat optimizer-state buffer that belongs to parameter <paramref name="p"/>.</summary>
    static Tensor Slice(Span<float> flat, Tensor p) => Tensor.FromArray(flat.Slice(p.Offset, p.Length).ToArray(), p.Shape);
}
