// The op/module catalog: every op file declares its gradient-check cases in a static method marked
// [GradCases]; GradCatalog finds them all by reflection, so adding an op adds its check, its parity
// test and its benchmark without editing a central list.
using System.Reflection;

namespace NanoMbpo;

/// <summary>Marks a static method returning IEnumerable&lt;GradCase&gt; as part of the catalog.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class GradCasesAttribute : Attribute;

/// <summary>A built instance of a case: the tensors whose gradients are checked (inputs and/or
/// parameters; all leaves) and the forward computation. Forward must be deterministic (dropout
/// re-seeds itself on each call).</summary>
public sealed record GradProblem(Tensor[] Checked, Func<Tensor> Forward);

/// <summary>One catalog entry: a name, a description of its shapes, and a builder taking an RNG and
/// a dtype (float64 for gradient checks, float32 for fixtures and parity).</summary>
public sealed record GradCase(string Name, string Shapes, Func<Rng, DType, GradProblem> Build)
{
    /// <summary>A case over fresh inputs of the given shapes, drawn uniformly from [lo, hi]
    /// (choose the range to stay away from kinks and domain edges).</summary>
    public static GradCase Simple(string name, Func<Tensor[], Tensor> forward, params int[][] shapes)
        => Ranged(name, -1.0, 1.0, forward, shapes);

    public static GradCase Ranged(string name, double lo, double hi, Func<Tensor[], Tensor> forward, params int[][] shapes)
        => new(name, string.Join(" ", shapes.Select(s => ShapeUtil.Format(s))), (rng, dt) =>
        {
            var xs = shapes.Select(s => Tensor.Uniform(rng, s, lo, hi, dt).RequireGrad()).ToArray();
            return new GradProblem(xs, () => forward(xs));
        });
}

public static class GradCatalog
{
    static IReadOnlyList<GradCase>? all;

    /// <summary>Every case declared anywhere in the NanoMbpo assembly, sorted by name.</summary>
    public static IReadOnlyList<GradCase> All()
    {
        if (all is not null) return all;
        var list = new List<GradCase>();
        foreach (var type in typeof(GradCatalog).Assembly.GetTypes())
            foreach (var m in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                if (m.GetCustomAttribute<GradCasesAttribute>() is not null)
                    list.AddRange((IEnumerable<GradCase>)m.Invoke(null, null)!);
        var dup = list.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InvalidOperationException($"gradient-check case '{dup.Key}' is declared twice.");
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return all = list;
    }
}
