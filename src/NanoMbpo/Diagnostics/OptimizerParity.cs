// Device parity of the optimizer kernels, the rows `nanombpo parity` lists after the op catalog:
// Adam, AdamW (weight decay 0.01) and Polyak averaging (τ = 0.005) run three steps on a CPU store and
// on a twin store moved to the device, from the same parameters and the same per-step gradients
// (written on the host between steps: the store moves to the CPU and back, as a checkpoint load
// would). The parameters after the last step are compared with DeviceParity's elementwise metric
// and tolerance (1e-5, floor 1e-2). Tests: tests/NanoMbpo.Rl.Tests/OptimizerParityRowsTests.cs.
using NanoMbpo.Optim;

namespace NanoMbpo;

public static class OptimizerParity
{
    public static readonly string[] Cases = ["optim_adam", "optim_adamw", "optim_polyak"];
    const int Steps = 3;
    static readonly int[][] Shapes = [[37], [16, 9], [5]];   // odd sizes: vector tails and 16-float alignment gaps

    public static IEnumerable<ParityRow> RunAll(Device device, string? filter = null, ulong seed = 20261122)
    {
        foreach (var c in Cases)
            if (filter is null || c.Contains(filter, StringComparison.OrdinalIgnoreCase)) yield return Run(c, device, seed);
    }

    static ParameterStore Build(Rng rng)
    {
        var s = new ParameterStore(DType.F32);
        for (int i = 0; i < Shapes.Length; i++)
        {
            var p = s.Create($"p{i}", Shapes[i]);
            for (int j = 0; j < p.Length; j++) p.F32[j] = (float)rng.Uniform(-1, 1);
        }
        return s;
    }

    public static ParityRow Run(string name, Device device, ulong seed = 20261122)
    {
        string shapes = string.Join(" ", Shapes.Select(s => ShapeUtil.Format(s)));
        try
        {
            var cpu = Build(new Rng(seed)); var dev = Build(new Rng(seed));
            var srcCpu = Build(new Rng(seed + 1)); var srcDev = Build(new Rng(seed + 1));
            dev.MoveTo(device); srcDev.MoveTo(device);
            Adam? oc = null, od = null;
            if (name == "optim_adam") { oc = new Adam(cpu, 1e-2); od = new Adam(dev, 1e-2); }
            else if (name == "optim_adamw") { oc = new AdamW(cpu, 1e-2, weightDecay: 0.01); od = new AdamW(dev, 1e-2, weightDecay: 0.01); }
            var grads = new Rng(seed + 2);
            for (int step = 0; step < Steps; step++)
            {
                if (oc is null)
                {
                    cpu.PolyakUpdate(srcCpu, 0.005); dev.PolyakUpdate(srcDev, 0.005);
                    continue;
                }
                var g = new float[cpu.Count];
                for (int i = 0; i < g.Length; i++) g[i] = (float)grads.Uniform(-1, 1);
                g.CopyTo(cpu.Grad<float>());
                dev.MoveTo(Device.Cpu); g.CopyTo(dev.Grad<float>()); dev.MoveTo(device);
                oc.Step(); od!.Step();
            }
            dev.MoveTo(Device.Cpu);
            var a = cpu.Data<float>(); var b = dev.Data<float>();
            double scale = 0, worst = 0;
            foreach (var v in a) scale = Math.Max(scale, Math.Abs(v));
            double floor = DeviceParity.Floor * Math.Max(1, scale);
            for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(b[i] - a[i]) / (Math.Abs(a[i]) + floor));
            return new ParityRow(name, $"{Steps} steps", shapes, Shapes.Sum(s => ShapeUtil.Numel(s)), worst, DeviceParity.ElementwiseTolerance, null, null);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            return new ParityRow(name, $"{Steps} steps", shapes, 0, double.NaN, DeviceParity.ElementwiseTolerance, null, e.Message);
        }
    }
}
