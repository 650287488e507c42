// KernelCache loads each kernel once per accelerator; launchers reject bad sizes with a message that
// names the op, the buffer and the sizes.
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class KernelCacheTests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    [Fact]
    public void LoadsEachKernelOncePerAccelerator()
    {
        var acc = fx.CpuWarp32;
        var kl = KernelLauncher.For(acc);
        Assert.Same(kl, KernelLauncher.For(acc));
        using var x = acc.Upload(Ref.Randn(10, 1));
        using var y = acc.Zeros<float>(10);
        kl.UnaryForward<ReluOp>(y.View, x.View);
        int loaded = kl.Cache.Count;
        for (int i = 0; i < 3; i++) kl.UnaryForward<ReluOp>(y.View, x.View);
        Assert.Equal(loaded, kl.Cache.Count);
        kl.UnaryForward<TanhOp>(y.View, x.View);
        Assert.Equal(loaded + 1, kl.Cache.Count);
    }

    [Fact]
    public void ShortBufferGivesClearMessage()
    {
        var acc = fx.CpuWarp32;
        var kl = KernelLauncher.For(acc);
        using var a = acc.Zeros<float>(10);
        using var c = acc.Zeros<float>(100);
        var ex = Assert.Throws<ArgumentException>(() => kl.Sgemm(c.View, a.View, a.View, 5, 5, 4));
        Assert.Contains("sgemm", ex.Message);
        Assert.Contains("M=5 N=5 K=4", ex.Message);
        Assert.Contains("'A'", ex.Message);
    }
}
