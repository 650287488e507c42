// Devices: round trips to ILGPU's CPU accelerator, `--device` parsing, and the CUDA fallback.
using Xunit;

namespace NanoMbpo.Tests.Core;

public class DeviceTests
{
    [Fact]
    public void RoundTripThroughTheIlgpuCpuAccelerator()
    {
        var t = Tensor.FromArray(new float[] { 1, -2, 3.5f, 4 }, 2, 2);
        var d = t.To(Device.IlgpuCpu);
        Assert.Equal(DeviceKind.IlgpuCpu, d.Device.Kind);
        Assert.Throws<InvalidOperationException>(() => d.F32.ToArray());
        Assert.Equal(t.ToFloatArray(), d.To(Device.Cpu).ToFloatArray());
        var z = Tensor.Zeros([3], DType.F32, Device.IlgpuCpu).To(Device.Cpu);
        Assert.All(z.ToFloatArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ResolveParsesAndFallsBack()
    {
        var log = new StringWriter();
        Assert.Same(Device.Cpu, Device.Resolve("cpu", log));
        var e = Assert.Throws<ArgumentException>(() => Device.Resolve("tpu"));
        Assert.Contains("auto, cpu, cuda, ilgpu-cpu", e.Message);
        var auto = Device.Resolve("auto", log);
        if (Device.CudaAvailable()) Assert.Equal(DeviceKind.Cuda, auto.Kind);
        else
        {
            Assert.Same(Device.Cpu, auto);
            Assert.Contains("falling back to the CPU", log.ToString());
            Assert.Throws<DeviceUnavailableException>(() => Device.Resolve("cuda"));
        }
    }
}
