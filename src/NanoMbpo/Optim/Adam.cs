// Adam and AdamW over a ParameterStore's flat buffers: one pass over parameters, gradients and the
// two moment buffers per step, with bias correction, exactly torch's update order:
//   g += wd·p (Adam, L2) | p *= 1 − lr·wd (AdamW, decoupled)
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   p −= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps)
// float32 runs a Vector512/Vector256 loop with a scalar tail, split over CpuThreads for large stores;
// float64 a scalar loop. When the store lives on an accelerator (ParameterStore.MoveTo) the step is
// the Adam kernel with m and v kept on the device too; reading the moments (ExpAvg, checkpoints)
// brings them back to the host arrays.
// Checked against the closed form by OptimCheck (a row of `nanombpo gradcheck`);
// tests: tests/NanoMbpo.Tests/NN/OptimTests.cs; benchmark: `nanombpo bench mlp`.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoMbpo.Cpu;

namespace NanoMbpo.Optim;

public class Adam
{
    public ParameterStore Store { get; }
    public double LearningRate { get; set; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    /// <summary>True for AdamW (weight decay applied to the parameters, not added to the gradient).</summary>
    public bool Decoupled { get; }
    /// <summary>Number of steps taken (t in the bias corrections).</summary>
    public long StepCount { get; private set; }
    readonly Array m, v;   // first and second moments, same layout as the store
    Tensor? mDevice, vDevice;   // the moments while the store lives on an accelerator (authoritative when set)

    public Adam(ParameterStore store, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.0)
        : this(store, lr, beta1, beta2, eps, weightDecay, decoupled: false) { }

    protected Adam(ParameterStore store, double lr, double beta1, double beta2, double eps, double weightDecay, bool decoupled)
    {
        ArgumentNullException.ThrowIfNull(store);
        string name = decoupled ? "AdamW" : "Adam";
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), $"{name}: learning rate must be >= 0, got {lr}.");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), $"{name}: beta1 must be in [0, 1), got {beta1}.");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), $"{name}: beta2 must be in [0, 1), got {beta2}.");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), $"{name}: eps must be > 0, got {eps}.");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), $"{name}: weight decay must be >= 0, got {weightDecay}.");
        Store = store; LearningRate = lr; Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay; Decoupled = decoupled;
        // Sized for the store as built; parameters must all exist before the optimizer is made.
        m = store.DType == DType.F32 ? new float[store.Count] : new double[store.Count];
        v = store.DType == DType.F32 ? new float[store.Count] : new double[store.Count];
    }

    /// <summary>First moment (exp_avg), flat, same layout as the store.</summary>
    public Span<T> ExpAvg<T>() where T : unmanaged { SyncMomentsToHost(); return (T[])m; }
    /// <summary>Second moment (exp_avg_sq), flat, same layout as the store.</summary>
    public Span<T> ExpAvgSq<T>() where T : unmanaged { SyncMomentsToHost(); return (T[])v; }

    /// <summary>Copies device moments into the host arrays and drops the device copies, so host
    /// reads and writes (checkpoints) see and set the real state; the next device step re-uploads.</summary>
    void SyncMomentsToHost()
    {
        if (mDevice is null || vDevice is null) return;
        mDevice.To(Device.Cpu).F32.CopyTo((float[])m);
        vDevice.To(Device.Cpu).F32.CopyTo((float[])v);
        mDevice = vDevice = null;
    }

    /// <summary>Restores the state (e.g. from a checkpoint); moments must already be copied in.</summary>
    public void SetStepCount(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), $"step must be >= 0, got {step}.");
        StepCount = step;
    }

    public void ZeroGrad() => Store.ZeroGrad();

    internal (Storage M, Storage V) MomentStorages() { SyncMomentsToHost(); return (new Storage(m), new Storage(v)); }

    /// <summary>One update of every parameter from the gradients in the store.</summary>
    public void Step() => Step(zeroGrad: false);

    /// <summary>One update; with <paramref name="zeroGrad"/> the gradients are cleared in the same
    /// pass as they are read (as Step() then ZeroGrad(), without a second sweep over the buffer).</summary>
    public void Step(bool zeroGrad)
    {
        if (Store.Count != m.Length)
            throw new InvalidOperationException($"{(Decoupled ? "AdamW" : "Adam")}: the store grew from {m.Length} to {Store.Count} values after the optimizer was created.");
        StepCount++;
        Store.MarkModified();   // a graph recorded before this step can no longer be back-propagated
        if (!Store.Device.IsCpu) { StepOnDevice(); if (zeroGrad) Store.ZeroGrad(); return; }
        if (mDevice is not null) SyncMomentsToHost();   // the store came back to the CPU
        if (Store.DType == DType.F32)
        {
            // The same float coefficients as the device kernel, each rounded once from double.
            var h = Kernels.AdamParams.For((int)StepCount, LearningRate, Beta1, Beta2, Eps, WeightDecay, Decoupled);
            float b1 = h.Beta1, c1 = h.OneMinusBeta1, b2 = h.Beta2, c2 = h.OneMinusBeta2, eps = h.Eps;
            float ss = h.StepSize, ib = h.InvSqrtBiasCorrection2, fl2 = h.L2, fdec = h.Decay;
            var (pm, vm) = ((float[])m, (float[])v);
            int n = Store.Count;
            // Elements are independent and the vector and scalar paths round identically, so the
            // split over threads (whole 16-float blocks) cannot change the result.
            CpuThreads.For((n + 15) / 16, ParallelGrainBlocks, (s, e) =>
            {
                int i0 = s * 16, i1 = Math.Min(n, e * 16);
                StepF32(Store.Data<float>()[i0..i1], Store.Grad<float>()[i0..i1], pm.AsSpan(i0, i1 - i0), vm.AsSpan(i0, i1 - i0),
                    b1, c1, b2, c2, eps, ss, ib, fl2, fdec, zeroGrad);
            });
        }
        else
        {
            double bc1 = 1 - Math.Pow(Beta1, StepCount), bc2 = 1 - Math.Pow(Beta2, StepCount);
            double l2 = Decoupled ? 0 : WeightDecay, decay = Decoupled ? 1 - LearningRate * WeightDecay : 1;
            StepF64(Store.Data<double>(), Store.Grad<double>(), (double[])m, (double[])v, Beta1, Beta2, Eps,
                LearningRate / bc1, 1 / Math.Sqrt(bc2), l2, decay);
            if (zeroGrad) Store.ZeroGrad();
        }
    }

    /// <summary>Device twin of Step: the Adam kernel over the store's flat buffers, moments on the device.</summary>
    void StepOnDevice()
    {
        var d = Store.Device;
        if (mDevice is null || vDevice is null || mDevice.Device != d)
        {
            SyncMomentsToHost();
            mDevice = Tensor.FromArray((float[])m, m.Length).To(d);
            vDevice = Tensor.FromArray((float[])v, v.Length).To(d);
        }
        if (Store.Count == 0) return;
        var h = Kernels.AdamParams.For((int)StepCount, LearningRate, Beta1, Beta2, Eps, WeightDecay, Decoupled);
        Dev.L(d).AdamStep(Store.Flat(false).View<float>(), mDevice.View<float>(), vDevice.View<float>(), Store.Flat(true).View<float>(), h);
    }

    static void StepF64(Span<double> p, ReadOnlySpan<double> g, double[] m, double[] v, double b1, double b2, double eps,
        double stepSize, double invBc2Sqrt, double l2, double decay)
    {
        for (int i = 0; i < p.Length; i++)
        {
            double gi = g[i] + l2 * p[i];
            double pi = p[i] * decay;
            double mi = b1 * m[i] + (1 - b1) * gi;
            double vi = b2 * v[i] + (1 - b2) * gi * gi;
            m[i] = mi; v[i] = vi;
            p[i] = pi - stepSize * mi / (Math.Sqrt(vi) * invBc2Sqrt + eps);
        }
    }

    /// <summary>16-float blocks per thread chunk: ~16k parameters (the update costs a divide and a
    /// square root per element, so a second thread pays from there on).</summary>
    const int ParallelGrainBlocks = 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void StepF32(Span<float> p, Span<float> g, Span<float> m, Span<float> v, float b1, float c1, float b2, float c2, float eps,
        float stepSize, float invBc2Sqrt, float l2, float decay, bool zeroGrad)
    {
        int n = p.Length, i = 0;
        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        // c1 = 1−β1 and c2 = 1−β2 come rounded from double: 1 − 0.999f is off by 1.3e-5 relative.
        if (Vector512.IsHardwareAccelerated)
        {
            var vb1 = Vector512.Create(b1); var vc1 = Vector512.Create(c1); var vb2 = Vector512.Create(b2); var vc2 = Vector512.Create(c2);
            var veps = Vector512.Create(eps); var vss = Vector512.Create(stepSize); var vib = Vector512.Create(invBc2Sqrt);
            var vl2 = Vector512.Create(l2); var vdec = Vector512.Create(decay);
            for (; i <= n - 16; i += 16)
            {
                var pi = Vector512.LoadUnsafe(ref rp, (nuint)i);
                var gi = Vector512.FusedMultiplyAdd(vl2, pi, Vector512.LoadUnsafe(ref rg, (nuint)i));
                if (zeroGrad) Vector512<float>.Zero.StoreUnsafe(ref rg, (nuint)i);
                var mi = Vector512.FusedMultiplyAdd(vb1, Vector512.LoadUnsafe(ref rm, (nuint)i), vc1 * gi);
                var vi = Vector512.FusedMultiplyAdd(vb2, Vector512.LoadUnsafe(ref rv, (nuint)i), vc2 * gi * gi);
                mi.StoreUnsafe(ref rm, (nuint)i); vi.StoreUnsafe(ref rv, (nuint)i);
                var den = Vector512.FusedMultiplyAdd(Vector512.Sqrt(vi), vib, veps);
                (pi * vdec - vss * mi / den).StoreUnsafe(ref rp, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vb1 = Vector256.Create(b1); var vc1 = Vector256.Create(c1); var vb2 = Vector256.Create(b2); var vc2 = Vector256.Create(c2);
            var veps = Vector256.Create(eps); var vss = Vector256.Create(stepSize); var vib = Vector256.Create(invBc2Sqrt);
            var vl2 = Vector256.Create(l2); var vdec = Vector256.Create(decay);
            for (; i <= n - 8; i += 8)
            {
                var pi = Vector256.LoadUnsafe(ref rp, (nuint)i);
                var gi = Vector256.FusedMultiplyAdd(vl2, pi, Vector256.LoadUnsafe(ref rg, (nuint)i));
                if (zeroGrad) Vector256<float>.Zero.StoreUnsafe(ref rg, (nuint)i);
                var mi = Vector256.FusedMultiplyAdd(vb1, Vector256.LoadUnsafe(ref rm, (nuint)i), vc1 * gi);
                var vi = Vector256.FusedMultiplyAdd(vb2, Vector256.LoadUnsafe(ref rv, (nuint)i), vc2 * gi * gi);
                mi.StoreUnsafe(ref rm, (nuint)i); vi.StoreUnsafe(ref rv, (nuint)i);
                var den = Vector256.FusedMultiplyAdd(Vector256.Sqrt(vi), vib, veps);
                (pi * vdec - vss * mi / den).StoreUnsafe(ref rp, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float pi = Unsafe.Add(ref rp, i);
            float gi = MathF.FusedMultiplyAdd(l2, pi, Unsafe.Add(ref rg, i));
            if (zeroGrad) Unsafe.Add(ref rg, i) = 0f;
            float mi = MathF.FusedMultiplyAdd(b1, Unsafe.Add(ref rm, i), c1 * gi);
            float vi = MathF.FusedMultiplyAdd(b2, Unsafe.Add(ref rv, i), c2 * gi * gi);
            Unsafe.Add(ref rm, i) = mi; Unsafe.Add(ref rv, i) = vi;
            float den = MathF.FusedMultiplyAdd(MathF.Sqrt(vi), invBc2Sqrt, eps);
            Unsafe.Add(ref rp, i) = pi * decay - stepSize * mi / den;
        }
    }
}

/// <summary>AdamW: Adam with decoupled weight decay (Loshchilov and Hutter), torch defaults.</summary>
public sealed class AdamW : Adam
{
    public AdamW(ParameterStore store, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01)
        : base(store, lr, beta1, beta2, eps, weightDecay, decoupled: true) { }
}
