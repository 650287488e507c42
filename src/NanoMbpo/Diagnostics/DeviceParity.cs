// Device parity over the op catalog: each GradCatalog case is built in float32 twice with the same
// seed; one copy runs forward + backward on the CPU, the other has its checked leaves moved to the
// device in place (so the case's closures, ids and masks stay as they are) and runs there. The
// output and every checked gradient are compared elementwise:
//   err = |device − cpu| / (|cpu| + floor · max(1, max|cpu|)),  pass when max err ≤ tolerance,
// tolerance 1e-5 for elementwise/index ops, 1e-4 for reductions, GEMM, attention, norms and losses.
// Ops without a device kernel are reported as skipped with the reason, never as passes.
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
    public const double ElementwiseTolerance = 1e-5, ReductionTolerance = 1e-4;
    /// <summary>Floor of the relative error's denominator, as a fraction of the tensor's largest
    /// magnitude (at least 1): elements far below the tensor's scale are judged on absolute error,
    /// because a float32 result that cancels (gelu(-3.9) = x/2·(1+erf)) is only accurate to ulps of
    /// its larger terms — on both paths (each is ~2e-7 from float64 there).</summary>
    public const double ElementwiseFloor = 1e-2, ReductionFloor = 1e-2;

    /// <summary>Case-name prefixes whose output is a pointwise or index function of the inputs.</summary>
    static readonly string[] ElementwisePrefixes =
    [
        "add", "sub", "mul", "div", "neg", "rsub", "relu", "gelu", "tanh", "sigmoid", "silu", "softplus", "exp",
        "sqrt", "abs", "pow", "clamp", "minimum", "maximum", "permute", "transpose", "embedding", "gather",
        "masked_fill", "dropout",
    ];

    /// <summary>Cases that cannot match the CPU elementwise, with the reason.</summary>
    static string? KnownSkip(string name) =>
        name.Contains("dropout", StringComparison.Ordinal)
            ? "device dropout draws its mask from the counter-based random kernel, not the CPU rng stream (mask statistics are unit-tested)"
            : null;

    public static bool IsElementwise(string name) =>
        (name == "log" || name.StartsWith("log_", StringComparison.Ordinal) && !name.StartsWith("log_softmax", StringComparison.Ordinal)
         || ElementwisePrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
        && !name.StartsWith("reshape_then", StringComparison.Ordinal);

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
        bool elementwise = IsElementwise(c.Name);
        double tol = elementwise ? ElementwiseTolerance : ReductionTolerance;
        double floor = elementwise ? ElementwiseFloor : ReductionFloor;
        if (KnownSkip(c.Name) is { } why) return [new ParityRow(c.Name, "fwd+bwd", c.Shapes, 0, double.NaN, tol, why, null)];

        Tensor cpuOut; Tensor[] cpuChecked; Tensor r;
        try
        {
            var p = c.Build(new Rng(seed), DType.F32);
            cpuChecked = p.Checked;
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
        catch (NotSupportedException e)
        {
            return [new ParityRow(c.Name, "fwd+bwd", c.Shapes, 0, double.NaN, tol, e.Message, null)];
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

    static ParityRow Compare(GradCase c, string dir, Tensor cpu, Tensor dev, double tol, double floor)
    {
        if (!ShapeUtil.Same(cpu.Shape, dev.Shape))
            return new ParityRow(c.Name, dir, c.Shapes, 0, double.NaN, tol, null, $"shape {dev.ShapeString} on the device vs {cpu.ShapeString} on the CPU");
        var e = cpu.ToFloatArray();
        var a = dev.To(Device.Cpu).ToFloatArray();
        double worst = 0, scale = 1;
        foreach (var v in e) if (float.IsFinite(v)) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < e.Length; i++)
        {
            double err = Math.Abs((double)a[i] - e[i]) / (Math.Abs((double)e[i]) + floor * scale);
            if (double.IsNaN(err)) err = float.IsNaN(a[i]) && float.IsNaN(e[i]) ? 0 : double.PositiveInfinity;
            worst = Math.Max(worst, err);
        }
        return new ParityRow(c.Name, dir, $"{c.Shapes} → {cpu.ShapeString}", e.Length, worst, tol, null, null);
    }
}
