// One descriptor per op: the arguments of its [GradCases(...)] attribute in the op file. It names the
// CPU entry point, the device kernel classes its twin launches (or, for an op built from other ops or a
// CPU-only one, why it has none of its own), its tolerance class and any parity exemption. The
// gradient check, accumulation check, precision agreement, device parity and kernel lists derive from
// it; CatalogDescriptorTests (tests/NanoMbpo.Tests/Core/CatalogDescriptorTests.cs) validates every one.
using System.Reflection;

namespace NanoMbpo;

/// <summary>How far a float32 result may drift: pointwise and index ops (each element a short chain of
/// rounded operations) or accumulating ops (sums, GEMMs, norms, attention, losses, modules).</summary>
public enum ToleranceClass { Unset, Pointwise, Accumulating }

/// <summary>Marks a static method returning IEnumerable&lt;GradCase&gt; as part of the catalog; its
/// named arguments are the op's descriptor.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class GradCasesAttribute : Attribute
{
    /// <summary>The op (family) name, as torch spells it: "softmax", "layer_norm", "nn_linear".</summary>
    public string Op { get; set; } = "";
    /// <summary>The CPU implementation: a method of the declaring type (nameof(...)).</summary>
    public string Cpu { get; set; } = "";
    public ToleranceClass Tolerance { get; set; }
    /// <summary>Space-separated kernel classes of NanoMbpo.Kernels its device twin launches.</summary>
    public string? Kernels { get; set; }
    /// <summary>Instead of Kernels: why the op needs no kernel of its own (built from other ops, a view).</summary>
    public string? Composite { get; set; }
    /// <summary>Instead of Kernels: why the op cannot run on a device (it then throws NotSupportedException there).</summary>
    public string? CpuOnly { get; set; }
    /// <summary>Why device results cannot be compared elementwise with the CPU (e.g. a different random stream).</summary>
    public string? NoParity { get; set; }
}

public sealed record OpDescriptor(string Op, string DeclaredBy, string Cpu, ToleranceClass Tolerance,
    IReadOnlyList<string> Kernels, string? Composite, string? CpuOnly, string? NoParity)
{
    public static readonly OpDescriptor None = new("", "", "", ToleranceClass.Unset, [], null, null, null);

    public const double PointwiseParityTolerance = 1e-5, AccumulatingParityTolerance = 1e-4;

    /// <summary>True when the op runs on an accelerator (its own kernels or other ops' kernels).</summary>
    public bool OnDevice => CpuOnly is null;

    /// <summary>Device-vs-CPU tolerance of <see cref="DeviceParity"/> for this class.</summary>
    public double ParityTolerance => Tolerance == ToleranceClass.Pointwise ? PointwiseParityTolerance : AccumulatingParityTolerance;

    internal static OpDescriptor From(GradCasesAttribute a, MethodInfo declaredBy) =>
        new(a.Op, $"{declaredBy.DeclaringType!.Name}.{declaredBy.Name}", a.Cpu, a.Tolerance,
            (a.Kernels ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries), a.Composite, a.CpuOnly, a.NoParity)
        { DeclaringType = declaredBy.DeclaringType };

    internal Type? DeclaringType { get; init; }

    /// <summary>What is wrong with this descriptor (empty when it is complete and consistent).</summary>
    public IEnumerable<string> Problems()
    {
        string at = $"{DeclaredBy} (op '{Op}')";
        if (string.IsNullOrWhiteSpace(Op)) yield return $"{at}: no Op name";
        if (Tolerance == ToleranceClass.Unset) yield return $"{at}: no Tolerance class";
        if (string.IsNullOrWhiteSpace(Cpu)) yield return $"{at}: no Cpu entry point";
        else if (DeclaringType is not null && DeclaringType.GetMember(Cpu, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance).Length == 0)
            yield return $"{at}: Cpu '{Cpu}' is not a member of {DeclaringType.Name}";
        int kinds = (Kernels.Count > 0 ? 1 : 0) + (Composite is null ? 0 : 1) + (CpuOnly is null ? 0 : 1);
        if (kinds != 1) yield return $"{at}: exactly one of Kernels, Composite and CpuOnly must be given, got {kinds}";
        var kernelTypes = typeof(NanoMbpo.Kernels.KernelCatalog).Assembly.GetTypes().Select(t => t.Name).ToHashSet();
        foreach (var k in Kernels)
            if (!k.EndsWith("Kernels", StringComparison.Ordinal) || !kernelTypes.Contains(k))
                yield return $"{at}: '{k}' is not a kernel class of NanoMbpo.Kernels";
        if (CpuOnly is not null && string.IsNullOrWhiteSpace(CpuOnly)) yield return $"{at}: CpuOnly needs a reason";
    }
}
