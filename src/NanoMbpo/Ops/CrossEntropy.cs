// Cross-entropy with integer targets: mean over rows of logsumexp(logits) − logits[target] (stable:
// the row max is subtracted first). The softmax probabilities are kept for the backward:
// dlogits = (softmax − onehot(target))/N·g. Targets out of [0,C) throw naming the row and value
// (no ignore_index). A non-finite loss throws NonFiniteException naming "cross_entropy".
// Gradient check: catalog "cross_entropy*"; tests: tests/NanoMbpo.Tests/Ops/LossOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>logits (N,C) (or (...,C)) and targets I32 (N) (or (...)) → mean cross-entropy, shape ().</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets)
    {
        OpCheck.Float(logits, "cross_entropy", "logits");
        if (targets.DType != DType.I32) throw new ArgumentException($"cross_entropy: 'targets' must be I32, got {targets}.", nameof(targets));
        if (logits.Rank < 1 || !logits.Shape.AsSpan(0, logits.Rank - 1).SequenceEqual(targets.Shape))
            throw new ArgumentException($"cross_entropy: targets{targets.ShapeString} must equal logits{logits.ShapeString} without its last (class) axis.", nameof(targets));
        int C = logits.Shape[^1], N = targets.Length;
        var td = Dev.HostInts(targets);   // private copy for the backward (and the range check on a device)
        for (int i = 0; i < N; i++)
            if ((uint)td[i] >= (uint)C)
                throw new ArgumentException($"cross_entropy: target {td[i]} at row {i} is out of range for {C} classes (logits{logits.ShapeString}).", nameof(targets));
        if (!logits.Device.IsCpu) return CrossEntropyOnDevice(logits, td, C, N);
        var probs = Tensor.Zeros(logits.Shape, logits.DType);
        var y = Tensor.Zeros([], logits.DType);
        if (logits.DType == DType.F32) y.F32[0] = (float)(CrossEntropyForward<float>(logits.F32, td, probs.F32, C) / N);
        else y.F64[0] = CrossEntropyForward<double>(logits.F64, td, probs.F64, C) / N;
        y.CheckFinite("cross_entropy");
        return Autograd.Record(y, "cross_entropy", dy =>
        {
            if (!logits.RequiresGrad) return;
            if (logits.DType == DType.F32) CrossEntropyBackward<float>(logits.GradData<float>(), probs.F32, td, C, dy.F32[0] / N);
            else CrossEntropyBackward<double>(logits.GradData<double>(), probs.F64, td, C, dy.F64[0] / N);
        }, logits);
    }

    /// <summary>Device twin composed of device ops: −mean(gather(log_softmax(logits), targets)).</summary>
    static Tensor CrossEntropyOnDevice(Tensor logits, int[] targets, int C, int N)
    {
        var lsm = LogSoftmax(Reshape(logits, N, C), -1);
        var picked = Gather(lsm, Tensor.FromArray(targets, N));
        var y = MulScalar(MeanAll(picked), -1.0);
        y.CheckFinite("cross_entropy");
        return y;
    }

    /// <summary>Fills probs with the row softmaxes; returns Σ_rows (logsumexp − logit[target]) in double.</summary>
    static double CrossEntropyForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> t, Span<T> probs, int C) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        for (int r = 0; r < t.Length; r++)
        {
            var row = x.Slice(r * C, C);
            var p = probs.Slice(r * C, C);
            T max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, p);
            T shifted = p[t[r]];
            TensorPrimitives.Exp<T>(p, p);
            T sum = TensorPrimitives.Sum<T>(p);
            TensorPrimitives.Multiply(p, T.One / sum, p);
            total += double.CreateTruncating(T.Log(sum) - shifted);
        }
        return total;
    }

    static void CrossEntropyBackward<T>(Span<T> dx, ReadOnlySpan<T> probs, ReadOnlySpan<int> t, int C, T coef) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.MultiplyAdd(probs, coef, dx, dx);
        for (int r = 0; r < t.Length; r++) dx[r * C + t[r]] -= coef;
    }

    [GradCases(Op = "cross_entropy", Cpu = nameof(CrossEntropy), Tolerance = ToleranceClass.Accumulating,
        Composite = "log_softmax, gather and mean on the device")]
    static IEnumerable<GradCase> CrossEntropyCases()
    {
        yield return GradCase.Sized("cross_entropy", [[4, 5]], (rng, dt, z) =>
        {
            var x = Tensor.Uniform(rng, z.Shape(4, 5), -2, 2, dt).RequireGrad();
            var t = z.Ints(rng, [4, 0, 2, 4], z[5], 4);
            return new GradProblem([x], () => CrossEntropy(x, t));
        }, "logits(4,5) targets(4)");
        yield return GradCase.Sized("cross_entropy_3d", [[2, 3, 3]], (rng, dt, z) =>
        {
            var x = Tensor.Uniform(rng, z.Shape(2, 3, 3), -2, 2, dt).RequireGrad();
            var t = z.Ints(rng, [1, 0, 2, 2, 2, 1], z[3], 2, 3);
            return new GradProblem([x], () => CrossEntropy(x, t));
        }, "logits(2,3,3) targets(2,3)");
    }
}
