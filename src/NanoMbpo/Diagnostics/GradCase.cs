// The op/module catalog: every op file declares its gradient-check cases in a static method marked
// [GradCases(...)], whose arguments are the op's one descriptor (OpDescriptor.cs): its CPU entry
// point, device kernels (or why it has none), tolerance class and parity exemptions. GradCatalog finds
// them all by reflection, so the gradient check, accumulation check, float32/float64 agreement, device
// parity and the PTX/kernel lists all derive from the op file without a central list.
// Tests: tests/NanoMbpo.Tests/Core/GradCheckTests.cs, Core/CatalogDescriptorTests.cs.
using System.Reflection;

namespace NanoMbpo;

/// <summary>A built instance of a case: the tensors whose gradients are checked (inputs and/or
/// parameters; all leaves) and the forward computation. Forward must be deterministic (dropout
/// re-seeds itself on each call).</summary>
public sealed record GradProblem(Tensor[] Checked, Func<Tensor> Forward);

/// <summary>The sizes a case is built at: <see cref="Unit"/> (the gradient-check shapes) or scaled by
/// K, where every dimension d &gt; 1 becomes d·K and dimensions of 0 or 1 stay (so broadcasting and
/// matching inner dimensions are preserved). Large sizes take the SIMD and multi-threaded paths.</summary>
public sealed class CaseSize
{
    public static readonly CaseSize Unit = new(1);
    public CaseSize(int k) => K = k >= 1 ? k : throw new ArgumentOutOfRangeException(nameof(k), k, "K must be >= 1.");
    public int K { get; }
    public bool IsUnit => K == 1;
    public int this[int d] => d <= 1 ? d : d * K;
    public int[] Shape(params int[] dims) => dims.Select(d => this[d]).ToArray();

    /// <summary>Integer data (ids, targets, masks): <paramref name="values"/> at unit size (chosen by
    /// hand: repeats, padding), else uniform in [0, max) over the scaled shape.</summary>
    public Tensor Ints(Rng rng, int[] values, int max, params int[] shape)
    {
        if (IsUnit) return Tensor.FromArray(values, shape);
        var s = Shape(shape);
        var v = new int[ShapeUtil.Numel(s)];
        for (int i = 0; i < v.Length; i++) v[i] = (int)(rng.NextUInt64() % (ulong)max);
        return Tensor.FromArray(v, s);
    }

    /// <summary>The smallest K at which the largest of <paramref name="shapes"/> holds at least
    /// <paramref name="target"/> elements, unless their envelope (right-aligned, the largest size at each
    /// position: a broadcast result's shape) then exceeds 64·target, as for an outer sum of a column and
    /// a row; then the smallest K at which the envelope reaches the target.</summary>
    public static CaseSize Reaching(int[][] shapes, int target)
    {
        int rank = shapes.Max(s => s.Length);
        var env = new int[rank];
        foreach (var s in shapes)
            for (int i = 0; i < s.Length; i++) env[rank - s.Length + i] = Math.Max(env[rank - s.Length + i], s[i]);
        if (env.All(d => d <= 1)) return Unit;
        long Numel(int[] s, CaseSize z) => s.Aggregate(1L, (p, d) => p * z[d]);
        CaseSize First(Func<CaseSize, long> size)
        {
            for (int k = 1; ; k++) { var z = new CaseSize(k); if (size(z) >= target) return z; }
        }
        var single = shapes.Any(s => s.Any(d => d > 1)) ? First(z => shapes.Max(s => Numel(s, z))) : null;
        return single is not null && Numel(env, single) <= 64L * target ? single : First(z => Numel(env, z));
    }
}

/// <summary>One catalog entry: a name, a description of its shapes, and a builder taking an RNG and
/// a dtype (float64 for gradient checks, float32 for fixtures and parity). <see cref="BuildAt"/> builds
/// it at other sizes; <see cref="Op"/> is the descriptor of the op file that declared it.</summary>
public sealed record GradCase(string Name, string Shapes, Func<Rng, DType, GradProblem> Build)
{
    /// <summary>Elements of the inputs' envelope at "large" size: above 2·Elementwise.Grain, so pointwise
    /// ops split over two threads, and far above the SGEMM's in-place and per-thread thresholds.</summary>
    public const int LargeElements = 70_000;

    public OpDescriptor Op { get; init; } = OpDescriptor.None;
    /// <summary>Why this case's device results cannot match the CPU elementwise, when only some cases
    /// of an op have such a reason (a module run with dropout); the op-wide reason is Op.NoParity.</summary>
    public string? NoParity { get; init; }
    /// <summary>The reason DeviceParity skips this case, if any: its own or its op's.</summary>
    public string? ParitySkip => NoParity ?? Op.NoParity;
    /// <summary>The float input shapes at unit size (they set K for a large build).</summary>
    public int[][] BaseShapes { get; init; } = [];
    /// <summary>The builder at any size; null for a case that exists at one size only.</summary>
    public Func<Rng, DType, CaseSize, GradProblem>? BuildAt { get; init; }

    /// <summary>The case with its inputs' envelope at <see cref="LargeElements"/> or a little more.</summary>
    public GradProblem BuildLarge(Rng rng, DType dtype) =>
        (BuildAt ?? throw new InvalidOperationException($"case '{Name}' has no sized builder."))(rng, dtype, LargeSize);

    public CaseSize LargeSize => CaseSize.Reaching(BaseShapes, LargeElements);

    /// <summary>A case over fresh inputs of the given shapes, drawn uniformly from [lo, hi]
    /// (choose the range to stay away from kinks and domain edges).</summary>
    public static GradCase Simple(string name, Func<Tensor[], Tensor> forward, params int[][] shapes)
        => Ranged(name, -1.0, 1.0, forward, shapes);

    public static GradCase Ranged(string name, double lo, double hi, Func<Tensor[], Tensor> forward, params int[][] shapes)
        => Sized(name, shapes, (rng, dt, z) =>
        {
            var xs = shapes.Select(s => Tensor.Uniform(rng, z.Shape(s), lo, hi, dt).RequireGrad()).ToArray();
            return new GradProblem(xs, () => forward(xs));
        });

    /// <summary>A case whose builder takes the sizes: it must build its unit-size problem for
    /// <see cref="CaseSize.Unit"/> and scale every dimension through the CaseSize otherwise.</summary>
    public static GradCase Sized(string name, int[][] shapes, Func<Rng, DType, CaseSize, GradProblem> build, string? shapesText = null)
        => new(name, shapesText ?? string.Join(" ", shapes.Select(s => ShapeUtil.Format(s))), (rng, dt) => build(rng, dt, CaseSize.Unit))
        {
            BaseShapes = shapes,
            BuildAt = build,
        };
}

public static class GradCatalog
{
    static IReadOnlyList<GradCase>? all;
    static IReadOnlyList<OpDescriptor>? ops;

    /// <summary>Every case declared anywhere in the NanoMbpo assembly, sorted by name, each carrying
    /// the descriptor of the [GradCases] method that declared it.</summary>
    public static IReadOnlyList<GradCase> All()
    {
        if (all is not null) return all;
        var list = new List<GradCase>();
        var descriptors = new List<OpDescriptor>();
        foreach (var type in typeof(GradCatalog).Assembly.GetTypes())
            foreach (var m in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                if (m.GetCustomAttribute<GradCasesAttribute>() is { } a)
                {
                    var d = OpDescriptor.From(a, m);
                    descriptors.Add(d);
                    list.AddRange(((IEnumerable<GradCase>)m.Invoke(null, null)!).Select(c => c with { Op = d }));
                }
        var dup = list.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InvalidOperationException($"gradient-check case '{dup.Key}' is declared twice.");
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        descriptors.Sort((a, b) => string.CompareOrdinal(a.Op, b.Op));
        ops = descriptors;
        return all = list;
    }

    /// <summary>Every op descriptor (one per [GradCases] method), sorted by op name.</summary>
    public static IReadOnlyList<OpDescriptor> Ops()
    {
        All();
        return ops!;
    }
}
