// General broadcasting binary ops (add/sub/mul/div/minimum/maximum) for any numpy-style pattern:
// the host collapses the output into ≤ 6 axes where each operand either advances (its stride) or is
// repeated (stride 0). Forward: one thread per output element. Backward: one thread per element of
// the operand being differentiated, summing over its repeated axes in index order (deterministic, no
// atomics); the sum is overwritten, not accumulated. Elementwise.cs covers the (R,C) row/column cases.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.BroadcastKernelTests".
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public struct MinimumOp : IBinaryOp
{
    // Ties split the gradient in halves, as the CPU op does.
    public readonly float Forward(float a, float b) => a <= b ? a : b;
    public readonly float GradA(float a, float b, float dout) => a < b ? dout : a == b ? 0.5f * dout : 0f;
    public readonly float GradB(float a, float b, float dout) => b < a ? dout : a == b ? 0.5f * dout : 0f;
}

public struct MaximumOp : IBinaryOp
{
    public readonly float Forward(float a, float b) => a >= b ? a : b;
    public readonly float GradA(float a, float b, float dout) => a > b ? dout : a == b ? 0.5f * dout : 0f;
    public readonly float GradB(float a, float b, float dout) => b > a ? dout : a == b ? 0.5f * dout : 0f;
}

/// <summary>Collapsed output sizes and the strides of a and b per axis (0 = repeated).</summary>
public struct BroadcastArgs
{
    public const int MaxRank = 6;
    public int Rank;
    public int O0, O1, O2, O3, O4, O5;
    public int A0, A1, A2, A3, A4, A5;
    public int B0, B1, B2, B3, B4, B5;

    public readonly int Size(int d) => d switch { 0 => O0, 1 => O1, 2 => O2, 3 => O3, 4 => O4, _ => O5 };
    public readonly int StrideA(int d) => d switch { 0 => A0, 1 => A1, 2 => A2, 3 => A3, 4 => A4, _ => A5 };
    public readonly int StrideB(int d) => d switch { 0 => B0, 1 => B1, 2 => B2, 3 => B3, 4 => B4, _ => B5 };

    /// <summary>From right-aligned shapes of a and b (each dim equal to the output's or 1).</summary>
    public static BroadcastArgs For(int[] outShape, int[] aShape, int[] bShape)
    {
        int r = outShape.Length;
        var sizes = new List<int>(); var fa = new List<bool>(); var fb = new List<bool>();
        for (int i = 0; i < r; i++)
        {
            if (outShape[i] == 1) continue;
            int ai = i - (r - aShape.Length), bi = i - (r - bShape.Length);
            bool af = ai >= 0 && aShape[ai] == outShape[i], bf = bi >= 0 && bShape[bi] == outShape[i];
            if (sizes.Count > 0 && fa[^1] == af && fb[^1] == bf) sizes[^1] *= outShape[i];
            else { sizes.Add(outShape[i]); fa.Add(af); fb.Add(bf); }
        }
        if (sizes.Count > MaxRank)
            throw new NotSupportedException($"broadcast: {sizes.Count} alternating broadcast axes; the device kernel handles at most {MaxRank}.");
        var g = new BroadcastArgs { Rank = sizes.Count };
        int accA = 1, accB = 1;
        for (int d = sizes.Count - 1; d >= 0; d--)
        {
            int sa = fa[d] ? accA : 0, sb = fb[d] ? accB : 0;
            if (fa[d]) accA *= sizes[d];
            if (fb[d]) accB *= sizes[d];
            g.Set(d, sizes[d], sa, sb);
        }
        for (int d = sizes.Count; d < MaxRank; d++) g.Set(d, 1, 0, 0);
        return g;
    }

    void Set(int d, int size, int sa, int sb)
    {
        switch (d)
        {
            case 0: O0 = size; A0 = sa; B0 = sb; break;
            case 1: O1 = size; A1 = sa; B1 = sb; break;
            case 2: O2 = size; A2 = sa; B2 = sb; break;
            case 3: O3 = size; A3 = sa; B3 = sb; break;
            case 4: O4 = size; A4 = sa; B4 = sb; break;
            default: O5 = size; A5 = sa; B5 = sb; break;
        }
    }
}

public static class BroadcastKernels
{
    public static void Forward<TOp>(Index1D i, ArrayView<float> y /* out */, ArrayView<float> a, ArrayView<float> b,
        BroadcastArgs g) where TOp : struct, IBinaryOp
    {
        long rem = i, ai = 0, bi = 0;
        for (int d = g.Rank - 1; d >= 0; d--)
        {
            int size = g.Size(d);
            long idx = rem % size; rem /= size;
            ai += idx * g.StrideA(d); bi += idx * g.StrideB(d);
        }
        y[i] = default(TOp).Forward(a[ai], b[bi]);
    }

    /// <summary>Thread per element j of operand a (<paramref name="forB"/> = 0) or b (1):
    /// dOperand[j] = Σ over its repeated axes of dOp/dOperand · dy.</summary>
    public static void Backward<TOp>(Index1D j, ArrayView<float> dOperand, ArrayView<float> dy /* out */,
        ArrayView<float> a, ArrayView<float> b, BroadcastArgs g, int forB) where TOp : struct, IBinaryOp
    {
        var op = default(TOp);
        long repeats = 1;
        for (int d = 0; d < g.Rank; d++)
            if ((forB == 0 ? g.StrideA(d) : g.StrideB(d)) == 0) repeats *= g.Size(d);
        float acc = 0f;
        for (long r = 0; r < repeats; r++)
        {
            long remJ = j, remR = r, oi = 0, ai = 0, bi = 0, outStride = 1;
            for (int d = g.Rank - 1; d >= 0; d--)
            {
                int size = g.Size(d);
                int own = forB == 0 ? g.StrideA(d) : g.StrideB(d);
                long idx;
                if (own != 0) { idx = remJ % size; remJ /= size; }
                else { idx = remR % size; remR /= size; }
                oi += idx * outStride; outStride *= size;
                ai += idx * g.StrideA(d); bi += idx * g.StrideB(d);
            }
            acc += forB == 0 ? op.GradA(a[ai], b[bi], dy[oi]) : op.GradB(a[ai], b[bi], dy[oi]);
        }
        dOperand[j] = acc;
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>y (n elements of the output shape) = a op b under the collapsed pattern <paramref name="g"/>.</summary>
    public void BroadcastForward<TOp>(ArrayView<float> y, ArrayView<float> a, ArrayView<float> b, BroadcastArgs g, int n)
        where TOp : struct, IBinaryOp
    {
        RequireLength(y, n, typeof(TOp).Name, "y");
        if (n == 0) return;
        var k = Cache.Get("BroadcastForward<" + typeof(TOp).Name + ">", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastArgs>(
                BroadcastKernels.Forward<TOp>));
        k(n, y, a, b, g);
    }

    /// <summary>Gradient of a (<paramref name="forB"/> false) or b, with <paramref name="operandLength"/>
    /// elements, summed over its broadcast axes (overwritten).</summary>
    public void BroadcastBackward<TOp>(ArrayView<float> dOperand, ArrayView<float> dy, ArrayView<float> a,
        ArrayView<float> b, BroadcastArgs g, bool forB, int operandLength) where TOp : struct, IBinaryOp
    {
        RequireLength(dOperand, operandLength, typeof(TOp).Name + " backward", forB ? "db" : "da");
        if (operandLength == 0) return;
        var k = Cache.Get("BroadcastBackward<" + typeof(TOp).Name + ">", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, BroadcastArgs, int>(BroadcastKernels.Backward<TOp>));
        k(operandLength, dOperand, dy, a, b, g, forB ? 1 : 0);
    }
}
