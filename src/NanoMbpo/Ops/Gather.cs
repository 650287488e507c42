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
        var ix = Dev.HostInts(index);   // private copy for the backward
        for (int i = 0; i < ix.Length; i++)
            if ((uint)ix[i] >= (uint)N)
                throw new ArgumentException($"gather: index {ix[i]} at flat position {i} of index{index.ShapeString} is out of range for the last axis of x{x.ShapeString} (N = {N}).", nameof(index));
        if (!x.Device.IsCpu) return GatherOnDevice(x, index.Shape, ix, N);
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

    /// <summary>Device twin: gather kernel; backward adds dy into the picked positions of dx.</summary>
    static Tensor GatherOnDevice(Tensor x, int[] indexShape, int[] ix, int N)
    {
        Dev.F32("gather", x);
        var d = x.Device;
        var l = Dev.L(d);
        var idDev = Tensor.FromArray(ix, ix.Length).To(d);
        var y = Dev.Empty(indexShape, d);
        if (y.Length > 0) l.Gather(Dev.V(y), Dev.V(x), Dev.VI(idDev), ix.Length, N, 1);
        return Autograd.Record(y, "gather", dy =>
        {
            if (!x.RequiresGrad || y.Length == 0) return;
            l.GatherBackward(Dev.GradAccum(x), Dev.V(dy), Dev.VI(idDev), ix.Length, N, 1);
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

    [GradCases(Op = "gather", Cpu = nameof(Gather), Tolerance = ToleranceClass.Pointwise, Kernels = "GatherKernels")]
    static IEnumerable<GradCase> GatherCases()
    {
        yield return GradCase.Sized("gather", [[4, 3]], (rng, dt, z) =>
        {
            var q = Tensor.Uniform(rng, z.Shape(4, 3), -1, 1, dt).RequireGrad();
            var a = z.Ints(rng, [2, 0, 1, 2], z[3], 4);
            return new GradProblem([q], () => Gather(q, a));
        }, "(4,3) index(4)");
        yield return GradCase.Sized("gather_3d", [[2, 3, 5]], (rng, dt, z) =>
        {
            var q = Tensor.Uniform(rng, z.Shape(2, 3, 5), -1, 1, dt).RequireGrad();
            var a = z.Ints(rng, [4, 0, 3, 3, 1, 4], z[5], 2, 3);
            return new GradProblem([q], () => Gather(q, a));
        }, "(2,3,5) index(2,3)");
    }
}
