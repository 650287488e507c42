// Argument checks shared by ops, so every shape or dtype error names the op, the argument and what
// was expected.
namespace NanoMbpo;

internal static class OpCheck
{
    public static void Float(Tensor t, string op, string arg)
    {
        if (!t.IsFloat) throw new ArgumentException($"{op}: '{arg}' must be float32 or float64, got {t}.", arg);
    }
    public static void SameDType(Tensor a, Tensor b, string op)
    {
        if (a.DType != b.DType) throw new ArgumentException($"{op}: operands differ in dtype ({a.DType} vs {b.DType}).");
    }
    public static void SameShape(Tensor a, Tensor b, string op)
    {
        if (!ShapeUtil.Same(a.Shape, b.Shape)) throw new ArgumentException($"{op}: shapes differ, {a.ShapeString} vs {b.ShapeString}.");
    }
    public static void Rank(Tensor t, int rank, string op, string arg)
    {
        if (t.Rank != rank) throw new ArgumentException($"{op}: '{arg}' must have rank {rank}, got {t.ShapeString}.", arg);
    }
}
