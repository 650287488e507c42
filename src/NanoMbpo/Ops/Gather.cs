// Gather: y[...] = x[..., index[...]] along the last axis (Q(s,a) lookups: Q (B,A) and actions (B)
// → (B)). Backward scatters dy into the picked positions of dx. Gradient check: catalog "gather*";
// tests: tests/NanoMbpo.Tests/Ops/IndexOpsBTests.cs.
using System.Numerics;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>x (..., N) and index (I32, shape (...)) → (...) holding x[..., index[...]].</summary>
    public static Tensor Gather(Tensor x, Tensor index)
    {
        OpCheck.Float(x, "gather", "x");
        if (index.DType != DType.I32) throw new ArgumentException($"gather: 'index' must be I32, got {index}.", nameof(index));
        if (x.Rank < 1 || !x.Shape.AsSpan(0, x.Rank - 1).SequenceEqual(index.Shape))
            throw new ArgumentException($"gather: index{index.ShapeString} must equal x{x.ShapeString} without its last axis.", nameof(index));
        int N = x.Shape[^1];
        var ix = index.I32.ToArray();   // private copy for the backward
        for (int i = 0; i < ix.Length; i++)
            if ((uint)ix[i] >= (uint)N)
                throw new ArgumentException($"gather: index {ix[i]} at flat position {i} of index{index.ShapeString} is out of range for the last axis of x{x.ShapeString} (N = {N}).", nameof(index));
        var y = Tensor.Zeros(index.Shape, x.DType);
        if (x.DType == DType.F32) GatherForward<float>(x.F32, ix, y.F32, N);
        else GatherForward<double>(x.F64, ix, y.F64, N);
        return Autograd.Record(y, "gather", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) GatherBackward<float>(x.GradData<float>(), ix, dy.F32, N);
            else GatherBackward<double>(x.GradData<double>(), ix, dy.F64, N);
        }, x);
    }

    static void GatherForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> ix, Span<T> y, int N) where T : unmanaged
    {
        for (int i = 0; i < ix.Length; i++) y[i] = x[i * N + ix[i]];
    }

    static void GatherBackward<T>(Span<T> dx, ReadOnlySpan<int> ix, ReadOnlySpan<T> dy, int N) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < ix.Length; i++) dx[i * N + ix[i]] += dy[i];
    }

    [GradCases]
    static IEnumerable<GradCase> GatherCases()
    {
        yield return new GradCase("gather", "(4,3) index(4)", (rng, dt) =>
        {
            var q = Tensor.Uniform(rng, [4, 3], -1, 1, dt).RequireGrad();
            var a = Tensor.FromArray(new[] { 2, 0, 1, 2 }, 4);
            return new GradProblem([q], () => Gather(q, a));
        });
        yield return new GradCase("gather_3d", "(2,3,5) index(2,3)", (rng, dt) =>
        {
            var q = Tensor.Uniform(rng, [2, 3, 5], -1, 1, dt).RequireGrad();
            var a = Tensor.FromArray(new[] { 4, 0, 3, 3, 1, 4 }, 2, 3);
            return new GradProblem([q], () => Gather(q, a));
        });
    }
}
