// Embedding: rows of a (V,C) table picked by integer ids of any shape → (..., C). Backward
// scatter-adds each dy row into the row of its id, serially in id order so repeated ids sum
// deterministically. Gradient check: catalog "embedding*"; tests: tests/NanoMbpo.Tests/Ops/IndexOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>weight (V,C) indexed by ids (I32, any shape) → (..., C).</summary>
    public static Tensor Embedding(Tensor weight, Tensor ids)
    {
        OpCheck.Float(weight, "embedding", "weight");
        OpCheck.Rank(weight, 2, "embedding", "weight");
        if (ids.DType != DType.I32) throw new ArgumentException($"embedding: 'ids' must be I32, got {ids}.", nameof(ids));
        int V = weight.Shape[0], C = weight.Shape[1];
        // A private copy: the backward must scatter to the ids seen by the forward even if the caller reuses the buffer.
        var idd = Dev.HostInts(ids);
        for (int i = 0; i < idd.Length; i++)
            if ((uint)idd[i] >= (uint)V)
                throw new ArgumentException($"embedding: id {idd[i]} at flat index {i} of ids{ids.ShapeString} is out of range for weight{weight.ShapeString} (V = {V}).", nameof(ids));
        if (!weight.Device.IsCpu) return EmbeddingOnDevice(weight, ids, idd, V, C);
        var y = Tensor.Zeros([.. ids.Shape, C], weight.DType);
        if (weight.DType == DType.F32) EmbeddingForward<float>(weight.F32, idd, y.F32, C);
        else EmbeddingForward<double>(weight.F64, idd, y.F64, C);
        return Autograd.Record(y, "embedding", dy =>
        {
            if (!weight.RequiresGrad) return;
            if (weight.DType == DType.F32) EmbeddingBackward<float>(weight.GradData<float>(), idd, dy.F32, C);
            else EmbeddingBackward<double>(weight.GradData<double>(), idd, dy.F64, C);
        }, weight);
    }

    /// <summary>Device twin: row-gather kernel; backward scatter-adds straight into the weight
    /// gradient (float atomics on a GPU: the summation order of repeated ids may vary in the last bits).</summary>
    static Tensor EmbeddingOnDevice(Tensor weight, Tensor ids, int[] idd, int V, int C)
    {
        Dev.F32("embedding", weight);
        var d = weight.Device;
        var l = Dev.L(d);
        var idDev = Tensor.FromArray(idd, idd.Length).To(d);
        var y = Dev.Empty([.. ids.Shape, C], d);
        if (y.Length > 0) l.Embedding(Dev.V(y), Dev.V(weight), Dev.VI(idDev), idd.Length, V, C);
        return Autograd.Record(y, "embedding", dy =>
        {
            if (!weight.RequiresGrad || y.Length == 0) return;
            l.EmbeddingBackward(Dev.GradAccum(weight), Dev.V(dy), Dev.VI(idDev), idd.Length, V, C);
        }, weight);
    }

    static void EmbeddingForward<T>(ReadOnlySpan<T> w, ReadOnlySpan<int> ids, Span<T> y, int C) where T : unmanaged
    {
        for (int i = 0; i < ids.Length; i++) w.Slice(ids[i] * C, C).CopyTo(y.Slice(i * C, C));
    }

    static void EmbeddingBackward<T>(Span<T> dw, ReadOnlySpan<int> ids, ReadOnlySpan<T> dy, int C) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < ids.Length; i++)
        {
            var row = dw.Slice(ids[i] * C, C);
            TensorPrimitives.Add(row, dy.Slice(i * C, C), row);
        }
    }

    [GradCases(Op = "embedding", Cpu = nameof(Embedding), Tolerance = ToleranceClass.Pointwise,
        Kernels = "EmbeddingKernels")]
    static IEnumerable<GradCase> EmbeddingCases()
    {
        // Ids repeat (3 appears twice, 0 three times) so the scatter-add must sum; row 4 is unused.
        yield return GradCase.Sized("embedding", [[5, 3]], (rng, dt, z) =>
        {
            var w = Tensor.Uniform(rng, z.Shape(5, 3), -1, 1, dt).RequireGrad();
            var ids = z.Ints(rng, [3, 0, 1, 0, 3, 0], z[5], 2, 3);
            return new GradProblem([w], () => Embedding(w, ids));
        }, "(5,3) ids(2,3)");
        yield return GradCase.Sized("embedding_scalar_ids", [[4, 2]], (rng, dt, z) =>
        {
            var w = Tensor.Uniform(rng, z.Shape(4, 2), -1, 1, dt).RequireGrad();
            var ids = z.Ints(rng, [2], z[4]);
            return new GradProblem([w], () => Embedding(w, ids));
        }, "(4,2) ids()");
    }
}
