// Device parity over the op catalog: each GradCatalog case is built in float32 twice with the same
// seed; one copy runs forward + backward on the CPU, the other has its checked leaves moved to the
// device in place (so the case's closures, ids and masks stay as they are) and runs there. Even-numbered
// checked leaves start with the same random gradient on both sides (so the device's accumulate path is
// compared too), the others with none (the overwrite-fresh path). The output and every checked
// gradient are compared elementwise:
//   err = |device − cpu| / (|cpu| + floor · max(1, max|cpu|)),  pass when max err ≤ tolerance,
// the tolerance from the op descriptor's class (1e-5 pointwise/index, 1e-4 accumulating ops).
// Nothing is skipped unless the op descriptor (CpuOnly, NoParity) or the case (NoParity) says why: a kernel that throws,
// NotSupportedException included, is a failure.
// Run: `nanombpo parity --device ilgpu-cpu` or tests/NanoMbpo.Tests/Dispatch/DeviceParityTests.cs.
namespace NanoMbpo;

/// <summary>One compared tensor: the output ("forward") or the gradient of a checked input ("grad x0").</summary>
public sealed record ParityRow(string Case, string Direction, string Shapes, int Elements, double MaxRelError,
    double Tolerance, string? Skipped, string? Error)
{
    public bool Passed => Skipped is null && Error is null && MaxRelError <= Tolerance;
    public bool Failed => Skipped is null && !Passed;
}

public static class DeviceParity
{
    public const double ElementwiseTolerance = OpDescriptor.PointwiseParityTolerance, ReductionTolerance = OpDescriptor.AccumulatingParityTolerance;
    /// <summary>Floor of the relative error's denominator, as a fraction of the tensor's largest
    /// magnitude (at least 1): elements far below the tensor's scale are judged on absolute error,
    /// because a float32 result that cancels (gelu(-3.9) = x/2·(1+erf)) is only accurate to ulps of
    /// its larger terms — on both paths (each is ~2e-7 from float64 there).</summary>
    public const double Floor = 1e-2;

    /// <summary>Rows for every catalog case (optionally filtered by a name substring).</summary>
    public static IEnumerable<ParityRow> RunAll(Device device, string? filter = null, ulong seed = 20261122)
    {
        foreach (var c in GradCatalog.All())
        {
            if (filter is not null && !c.Name.Contains(filter, StringComparison.Ordinal)) continue;
            foreach (var row in Run(c, device, seed)) yield return row;
        }
    }

    public static IReadOnlyList<ParityRow> Run(GradCase c, Device device, ulong seed = 20261122)
    {
        if (device.IsCpu) throw new ArgumentException("parity compares the CPU with an accelerator; pick cuda or ilgpu-cpu.", nameof(device));
        double tol = c.Op.ParityTolerance, floor = Floor;
        if (c.ParitySkip is { } why) return [new ParityRow(c.Name, "fwd+bwd", c.Shapes, 0, double.NaN, tol, why, null)];

        Tensor cpuOut; Tensor[] cpuChecked; Tensor r;
        try
        {
            var p = c.Build(new Rng(seed), DType.F32);
            cpuChecked = p.Checked;
            Prefill(cpuChecked, seed);
            cpuOut = p.Forward();
            r = Tensor.Uniform(new Rng(seed ^ 0x5151), cpuOut.Shape, -1, 1, DType.F32);
            if (cpuOut.RequiresGrad) cpuOut.Backward(r);
        }
        catch (Exception e)
        {
            return [new ParityRow(c.Name, "cpu", c.Shapes, 0, double.NaN, tol, null, $"the CPU reference failed: {e.GetType().Name}: {e.Message}")];
        }

        Tensor devOut; Tensor[] devChecked;
        try
        {
            var p = c.Build(new Rng(seed), DType.F32);
            devChecked = p.Checked;
            Prefill(devChecked, seed);
            // Move each distinct storage once (module parameters and their gradients are views into
            // their store's two flat buffers).
            var moved = new HashSet<Storage>(ReferenceEqualityComparer.Instance);
            foreach (var s in devChecked.SelectMany(t => t.Grad is null ? [t.Storage] : new[] { t.Storage, t.Grad.Storage }))
                if (moved.Add(s)) s.MoveTo(device, s.Array.Length);
            devOut = p.Forward();
            if (devOut.Device != device)
                throw new InvalidOperationException($"the output is on {devOut.Device}, not {device}: some op fell back to the host.");
            if (devOut.RequiresGrad) devOut.Backward(r.To(device));
            device.Accelerator!.Synchronize();
        }
        catch (NotSupportedException e) when (c.Op.CpuOnly is not null)
        {
            return [new ParityRow(c.Name, "fwd+bwd", c.Shapes, 0, double.NaN, tol, $"CPU-only: {c.Op.CpuOnly} ({e.Message})", null)];
        }
        catch (Exception e)
        {
            return [new ParityRow(c.Name, "device", c.Shapes, 0, double.NaN, tol, null, $"{e.GetType().Name}: {e.Message}")];
        }

        var rows = new List<ParityRow> { Compare(c, "forward", cpuOut, devOut, tol, floor) };
        for (int i = 0; i < cpuChecked.Length; i++)
        {
            var gc = cpuChecked[i].Grad; var gd = devChecked[i].Grad;
            string dir = $"grad x{i}";
            if (gc is null && gd is null) continue;
            if (gc is null || gd is null)
            {
                rows.Add(new ParityRow(c.Name, dir, c.Shapes, 0, double.NaN, tol, null,
                    $"gradient present on {(gc is null ? device.ToString() : "cpu")} only"));
                continue;
            }
            rows.Add(Compare(c, dir, gc, gd, tol, floor));
        }
        return rows;
    }

    /// <summary>Gives every even-numbered checked leaf a random gradient (the same for the same seed):
    /// a fresh leaf's buffer, or a module parameter's view into its store's gradient buffer.</summary>
    static void Prefill(Tensor[] checkedLeaves, ulong seed)
    {
        var rng = new Rng(seed ^ 0xACC0);
        for (int i = 0; i < checkedLeaves.Length; i += 2)
        {
            var t = checkedLeaves[i];
            var g = Tensor.Uniform(rng, t.Shape, -1, 1, t.DType);
            if (t.Grad is null) t.Grad = g;
            else for (int j = 0; j < t.Length; j++) t.Grad.SetFlat(j, g.GetFlat(j));
        }
    }

    /// <summary>max over elements of |actual − expected| / (|expected| + floor · max(1, max|expected|));
    /// NaN where both are NaN counts as equal, any other non-finite mismatch as infinite.</summary>
    public static double MaxRelError(double[] expected, float[] actual, double floor = Floor)
    {
        if (expected.Length != actual.Length) return double.PositiveInfinity;
        double worst = 0, scale = 1;
        foreach (var v in expected) if (double.IsFinite(v)) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]) / (Math.Abs(expected[i]) + floor * scale);
            if (double.IsNaN(err)) err = float.IsNaN(actual[i]) && double.IsNaN(expected[i]) ? 0 : double.PositiveInfinity;
            worst = Math.Max(worst, err);
        }
        return worst;
    }

    static ParityRow Compare(GradCase c, string dir, Tensor cpu, Tensor dev, double tol, double floor)
    {
        if (!ShapeUtil.Same(cpu.Shape, dev.Shape))
            return new ParityRow(c.Name, dir, c.Shapes, 0, double.NaN, tol, null, $"shape {dev.ShapeString} on the device vs {cpu.ShapeString} on the CPU");
        double worst = MaxRelError(cpu.ToDoubleArray(), dev.To(Device.Cpu).ToFloatArray(), floor);
        int elements = cpu.Length;
        return new ParityRow(c.Name, dir, $"{c.Shapes} → {cpu.ShapeString}", elements, worst, tol, null, null);
    }
}
