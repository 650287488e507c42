// Device dispatch details beyond catalog parity: mismatched devices name the op and both devices,
// ops without a kernel throw NotSupportedException naming op and device, device dropout statistics
// (mask in {0, 1/(1-p)}, kept fraction, gradient = mask ⊙ dy, rng-deterministic), the permute kernel
// against a reference loop, and the device ParameterStore (zero grad, copy, Polyak, grad norm, clip).
// Run: dotnet test -c Release --filter "FullyQualifiedName~Dispatch.DeviceDispatchTests".
using NanoMbpo.Optim;
using Xunit;

namespace NanoMbpo.Tests.Dispatch;

public sealed class DeviceDispatchTests
{
    static readonly Device D = Device.IlgpuCpu;

    [Fact]
    public void MismatchedDevices_NameOpAndBothDevices()
    {
        var a = Tensor.Uniform(new Rng(1), [2, 3], -1, 1).To(D);
        var b = Tensor.Uniform(new Rng(2), [2, 3], -1, 1);
        var e = Assert.Throws<ArgumentException>(() => F.Add(a, b));
        Assert.Contains("add", e.Message); Assert.Contains("ilgpu-cpu", e.Message); Assert.Contains("cpu", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => F.MatMul(a, F.Transpose(b, 0, 1)));
        Assert.Contains("matmul", e2.Message);
    }

    [Fact]
    public void OpWithoutKernel_ThrowsNotSupported_NamingOpAndDevice()
    {
        // int32 tensors may live on a device (index data), but slicing them there has no kernel.
        var x = Tensor.FromArray(new[] { 1, 2, 3, 4, 5, 6 }, 2, 3).To(D);
        var e = Assert.Throws<NotSupportedException>(() => F.Slice(x, 1, 0, 2));
        Assert.Contains("slice", e.Message); Assert.Contains("ilgpu-cpu", e.Message); Assert.Contains("I32", e.Message);
        e = Assert.Throws<NotSupportedException>(() => F.Concat([x, x], 0));
        Assert.Contains("concat", e.Message);
        // Inputs on different devices (integer ones included) are named, not silently copied.
        var m = Assert.Throws<ArgumentException>(() => F.Concat([x, Tensor.FromArray(new[] { 7, 8, 9 }, 1, 3)], 0));
        Assert.Contains("concat: xs[1] is on cpu but xs[0] is on ilgpu-cpu", m.Message);
    }

    [Fact]
    public void Dropout_OnDevice_MaskStatisticsAndGradient()
    {
        const double p = 0.3;
        var x = Tensor.Full([40, 50], 2.0).To(D).RequireGrad();
        var y = F.Dropout(x, p, new Rng(9), training: true);
        var dy = Tensor.Uniform(new Rng(3), [40, 50], -1, 1);
        y.Backward(dy.To(D));
        var yh = y.To(Device.Cpu).ToFloatArray(); var gx = x.Grad!.To(Device.Cpu).ToFloatArray(); var dyh = dy.ToFloatArray();
        float scale = (float)(1 / (1 - p));
        int kept = 0;
        for (int i = 0; i < yh.Length; i++)
        {
            bool keep = yh[i] != 0;
            if (keep) { kept++; Assert.Equal(2f * scale, yh[i], 5); Assert.Equal(dyh[i] * scale, gx[i], 5); }
            else Assert.Equal(0f, gx[i]);
        }
        double frac = kept / (double)yh.Length;   // 2000 draws: sd ≈ 0.01
        Assert.InRange(frac, 0.7 - 0.05, 0.7 + 0.05);
        var again = F.Dropout(x.Detach(), p, new Rng(9), true).To(Device.Cpu).ToFloatArray();
        Assert.Equal(yh, again);   // same rng state, same mask
        Assert.Same(x, F.Dropout(x, 0, new Rng(9), true));
    }

    [Fact]
    public void PermuteKernel_MatchesReferenceLoop()
    {
        int[] shape = [3, 5, 2, 7];
        int[] perm = [2, 0, 3, 1];
        var x = Tensor.Uniform(new Rng(4), shape, -1, 1);
        var y = F.Permute(x.To(D), perm).To(Device.Cpu);
        Assert.Equal(new[] { 2, 3, 7, 5 }, y.Shape);
        var xs = x.F32; var ys = y.F32;
        for (int a = 0; a < 3; a++) for (int b = 0; b < 5; b++) for (int c = 0; c < 2; c++) for (int d = 0; d < 7; d++)
            Assert.Equal(xs[((a * 5 + b) * 2 + c) * 7 + d], ys[((c * 3 + a) * 7 + d) * 5 + b]);
    }

    [Fact]
    public void ParameterStore_OnDevice_ZeroCopyPolyakNormClip()
    {
        static ParameterStore Make(ulong seed)
        {
            var s = new ParameterStore();
            var rng = new Rng(seed);
            foreach (var (name, shape) in new[] { ("a", new[] { 3, 4 }), ("b", new[] { 5 }) })
            {
                var p = s.Create(name, shape);
                Tensor.Uniform(rng, shape, -1, 1).F32.CopyTo(p.F32);
                Tensor.Uniform(rng, shape, -1, 1).F32.CopyTo(p.Grad!.F32);
            }
            return s;
        }
        var cpu = Make(1); var cpuSrc = Make(2);
        var dev = Make(1); var devSrc = Make(2);
        dev.MoveTo(D); devSrc.MoveTo(D);
        Assert.Equal(D, dev.Parameters[0].Device);
        Assert.Equal(D, dev.Parameters[1].Grad!.Device);
        Assert.Equal(cpu.GradNorm(), dev.GradNorm(), 5);
        Assert.Equal(GradClip.ClipGradNorm(cpu, 0.5), GradClip.ClipGradNorm(dev, 0.5), 5);
        cpu.PolyakUpdate(cpuSrc, 0.25); dev.PolyakUpdate(devSrc, 0.25);
        dev.MoveTo(Device.Cpu);
        for (int i = 0; i < cpu.Count; i++) Assert.Equal(cpu.Data<float>()[i], dev.Data<float>()[i], 6);
        for (int i = 0; i < cpu.Count; i++) Assert.Equal(cpu.Grad<float>()[i], dev.Grad<float>()[i], 6);
        dev.MoveTo(D);
        dev.ZeroGrad();
        dev.CopyFrom(devSrc);
        Assert.Throws<ArgumentException>(() => dev.CopyFrom(cpuSrc));
        // host snapshots in and out without moving the store
        var snap = dev.ToArray();
        Assert.Equal(cpuSrc.Data<float>().ToArray(), snap);
        dev.CopyFrom(cpu.ToArray());
        Assert.Equal(cpu.Data<float>().ToArray(), dev.ToArray());
        Assert.Equal(D, dev.Device);
        dev.CopyFrom(snap);
        Assert.Throws<ArgumentException>(() => dev.CopyFrom(new float[3]));
        Assert.Throws<InvalidOperationException>(() => dev.Create("late", 100000));
        dev.MoveTo(Device.Cpu);
        Assert.All(dev.Grad<float>().ToArray(), g => Assert.Equal(0f, g));
        Assert.Equal(cpuSrc.Data<float>().ToArray(), dev.Data<float>().ToArray());
    }
}
