// The optimizer parity rows of `nanombpo parity` (core Diagnostics/OptimizerParity.cs) on ILGPU's CPU
// accelerator: Adam, AdamW and Polyak match the CPU within 1e-5 after three steps; the filter selects rows.
using Xunit;

namespace NanoMbpo.Rl.Tests;

public class OptimizerParityRowsTests
{
    [Theory]
    [InlineData("optim_adam")]
    [InlineData("optim_adamw")]
    [InlineData("optim_polyak")]
    public void DeviceOptimizersMatchTheCpu(string name)
    {
        var r = OptimizerParity.Run(name, Device.IlgpuCpu);
        Assert.True(r.Passed, $"{name}: {r.MaxRelError:E2} {r.Error}");
        Assert.Equal(37 + 144 + 5, r.Elements);
        Assert.True(r.MaxRelError < 1e-5);
    }

    [Fact]
    public void FilterSelectsRows()
    {
        Assert.Single(OptimizerParity.RunAll(Device.IlgpuCpu, "polyak"));
        Assert.Empty(OptimizerParity.RunAll(Device.IlgpuCpu, "softmax"));
    }
}
