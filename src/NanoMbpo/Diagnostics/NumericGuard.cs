// Numeric faults caught where they start, for any training loop over a ParameterStore: CheckLoss and
// CheckGradients throw NonFiniteException naming the step, the network and (for gradients) the first parameter
// tensor whose gradient holds a NaN/Inf, before the optimizer spreads it into the weights. CheckGradients also
// tracks the gradient norm (mean and max since the last Summary) so a divergence shows in the log before it
// becomes NaN. FlushSubnormals zeroes subnormal floats (|x| < 2^-126), which run up to ~100x slower through
// SIMD GEMMs, where they can arise: GEMM inputs (features) and weights after an optimizer step.
// Tested by tests/NanoMbpo.Tests/Reliability/NumericGuardTests.cs; used by Agent/BehaviorCloning.cs.
using System.Numerics;
using System.Runtime.InteropServices;

namespace NanoMbpo.Diagnostics;

public sealed class NumericGuard(ParameterStore store, string network)
{
    double _normSum, _normMax;
    long _norms;

    public string Network { get; } = network;

    /// <summary>Throws when <paramref name="loss"/> is NaN or infinite, naming the step and the network.</summary>
    public void CheckLoss(double loss, long step)
    {
        if (!double.IsFinite(loss))
            throw new NonFiniteException($"{Network}: loss is {loss} at step {step}.");
    }

    /// <summary>The global gradient norm; throws naming the step, the network and the first parameter whose
    /// gradient is not finite (its name, shape, flat index and value) when the norm is not finite.</summary>
    public double CheckGradients(long step)
    {
        double norm = store.GradNorm();
        if (double.IsFinite(norm))
        {
            _normSum += norm; _norms++;
            if (norm > _normMax) _normMax = norm;
            return norm;
        }
        foreach (var p in store.Parameters)
        {
            var g = p.Grad!.Device.IsCpu ? p.Grad : p.Grad.To(Device.Cpu);
            for (int i = 0; i < g.Length; i++)
            {
                double v = g.GetFlat(i);
                if (!double.IsFinite(v))
                    throw new NonFiniteException($"{Network}: non-finite gradient at step {step}: first in parameter '{p.Name}' {p.ShapeString}, flat index {i} is {v} (gradient norm {norm}).");
            }
        }
        // The norm overflowed although every element is finite: report that too, it is as fatal.
        throw new NonFiniteException($"{Network}: gradient norm overflowed to {norm} at step {step} (every element finite but huge).");
    }

    /// <summary>"grad-norm mean M max X" over the norms since the last call, then resets; empty when none.</summary>
    public string Summary()
    {
        if (_norms == 0) return "";
        string s = FormattableString.Invariant($"grad-norm mean {_normSum / _norms:G4} max {_normMax:G4}");
        _normSum = _normMax = 0; _norms = 0;
        return s;
    }

    /// <summary>Zeroes the subnormal values of a CPU store's parameters; returns how many there were (0 on a device).</summary>
    public int FlushSubnormalWeights() => store.Device.IsCpu && store.DType == DType.F32 ? FlushSubnormals(store.Data<float>()) : 0;

    /// <summary>Sets every subnormal value of <paramref name="x"/> to +0 (normal values, zeros, NaN and Inf are kept);
    /// returns how many were flushed.</summary>
    public static int FlushSubnormals(Span<float> x)
    {
        int flushed = 0, i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<int>.Count)
        {
            var bits = MemoryMarshal.Cast<float, int>(x);
            var expMask = new Vector<int>(0x7F80_0000);
            var mantMask = new Vector<int>(0x007F_FFFF);
            for (; i <= bits.Length - Vector<int>.Count; i += Vector<int>.Count)
            {
                var v = new Vector<int>(bits[i..]);
                // Subnormal: exponent bits all zero and mantissa non-zero.
                var sub = Vector.Equals(v & expMask, Vector<int>.Zero) & ~Vector.Equals(v & mantMask, Vector<int>.Zero);
                if (sub == Vector<int>.Zero) continue;
                flushed -= Vector.Sum(sub); // lanes are -1 where subnormal
                Vector.ConditionalSelect(sub, Vector<int>.Zero, v).CopyTo(bits[i..]);
            }
        }
        for (; i < x.Length; i++)
            if (float.IsSubnormal(x[i])) { x[i] = 0; flushed++; }
        return flushed;
    }
}
