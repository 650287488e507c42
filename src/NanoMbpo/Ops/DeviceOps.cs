// Device dispatch plumbing shared by the op files: which device an op runs on (and a clear error when
// its float inputs disagree), device allocation, typed views, the kernel launcher of the device, and
// gradient plumbing. Kernels overwrite their outputs while autograd accumulates, so a backward writes
// into a GradSink: the gradient buffer itself when it does not exist yet (fresh zeros), else a
// scratch buffer added into it afterwards with an axpy kernel. GEMMs (beta = 1) and scatter kernels
// accumulate directly into GradAccum(x). Integer index tensors (ids, targets, masks) may live on the
// CPU: they are uploaded for the op. Tested by tests/NanoMbpo.Tests/Dispatch/*.
using ILGPU;
using NanoMbpo.Kernels;

namespace NanoMbpo;

internal static class Dev
{
    /// <summary>The device shared by the float inputs (null entries skipped). Integer tensors are
    /// index data and may live anywhere. Throws naming the op and both devices on a mismatch.</summary>
    public static Device Common(string op, params Tensor?[] xs)
    {
        Device? d = null; Tensor? first = null;
        foreach (var x in xs)
        {
            if (x is null || !x.IsFloat) continue;
            if (d is null) { d = x.Device; first = x; continue; }
            if (x.Device != d)
                throw new ArgumentException($"{op}: inputs live on different devices: {first} is on {d}, {x} is on {x.Device}; move them with To(device) first.");
        }
        return d ?? Device.Cpu;
    }

    /// <summary>Common for up to three inputs without a params array (op calls on the hot path).</summary>
    public static Device Common(string op, Tensor? a, Tensor? b = null, Tensor? c = null)
    {
        Device? d = null; Tensor? first = null;
        Fold(op, a, ref d, ref first); Fold(op, b, ref d, ref first); Fold(op, c, ref d, ref first);
        return d ?? Device.Cpu;
    }

    static void Fold(string op, Tensor? x, ref Device? d, ref Tensor? first)
    {
        if (x is null || !x.IsFloat) return;
        if (d is null) { d = x.Device; first = x; return; }
        if (x.Device != d)
            throw new ArgumentException($"{op}: inputs live on different devices: {first} is on {d}, {x} is on {x.Device}; move them with To(device) first.");
    }

    /// <summary>True when the op must run on an accelerator (its float inputs all live there).</summary>
    public static bool OnDevice(string op, params Tensor?[] xs) => !Common(op, xs).IsCpu;
    public static bool OnDevice(string op, Tensor? a, Tensor? b = null, Tensor? c = null) => !Common(op, a, b, c).IsCpu;

    public static KernelLauncher L(Device d) =>
        KernelLauncher.For(d.Accelerator ?? throw new InvalidOperationException("the CPU has no kernel launcher."));
    public static KernelLauncher L(Tensor t) => L(t.Device);

    /// <summary>Float32 check for device inputs: float64 stays on the CPU (gradient checks).</summary>
    public static void F32(string op, params Tensor?[] xs)
    {
        foreach (var x in xs)
            if (x is not null && x.IsFloat && x.DType != DType.F32)
                throw new NotSupportedException($"{op}: {x} is {x.DType}; device kernels are float32.");
    }

    public static NotSupportedException Unsupported(string op, Device d, string why = "no device kernel yet") =>
        new($"{op} on {d}: {why}; run it on the CPU (To(Device.Cpu)).");

    /// <summary>Throws NotSupportedException when any float input lives on an accelerator (ops without a kernel).</summary>
    public static void CpuOnly(string op, Tensor? a, Tensor? b = null, Tensor? c = null)
    {
        var d = Common(op, a, b, c);
        if (!d.IsCpu) throw Unsupported(op, d);
    }

    public static void CpuOnly(string op, params Tensor?[] xs)
    {
        var d = Common(op, xs);
        if (!d.IsCpu) throw Unsupported(op, d);
    }

    /// <summary>An uninitialised output/scratch buffer: the kernel writing it must cover every element.</summary>
    public static Tensor Empty(int[] shape, Device d, DType dtype = DType.F32) => Tensor.Uninitialized(shape, dtype, d);
    public static ArrayView<float> V(Tensor t) => t.View<float>();
    public static ArrayView<int> VI(Tensor t) => t.View<int>();

    /// <summary>An integer index tensor on device <paramref name="d"/> (uploaded when it lives elsewhere).</summary>
    public static Tensor Ints(Tensor ids, Device d) => ids.Device == d ? ids : ids.To(Device.Cpu).To(d);

    /// <summary>Host copy of an integer tensor's values, for range checks (downloads when on a device).</summary>
    public static int[] HostInts(Tensor ids) => ids.Device.IsCpu ? ids.I32.ToArray() : ids.To(Device.Cpu).I32.ToArray();

    /// <summary>x's gradient buffer on its device, allocated zeroed on first use (for kernels that add into it).</summary>
    public static ArrayView<float> GradAccum(Tensor x)
    {
        x.Grad ??= Tensor.Zeros(x.Shape, x.DType, x.Device);
        return x.Grad.View<float>();
    }

    /// <summary>x.grad += alpha · g (g on x's device, same element count).</summary>
    public static void Accumulate(Tensor x, Tensor g, float alpha = 1f)
    {
        if (x.Length == 0) return;
        L(x).Axpy(GradAccum(x), V(g), alpha);
    }

    /// <summary>Where a backward kernel that overwrites should write x's gradient.</summary>
    public static GradSink Sink(Tensor x) => new(x);

    /// <summary>Scratch or sink: a view for an overwritten gradient of x, or scratch when x needs none.</summary>
    public sealed class GradSink : IDisposable
    {
        readonly Tensor x;
        readonly Tensor? scratch;
        public ArrayView<float> View { get; }

        internal GradSink(Tensor x)
        {
            this.x = x;
            if (x.Grad is null)
            {
                // Overwritten completely by the backward kernel: no zeroing pass.
                x.Grad = Tensor.Uninitialized(x.Shape, x.DType, x.Device);
                View = x.Grad.View<float>();
            }
            else
            {
                scratch = Tensor.Uninitialized(x.Shape, x.DType, x.Device);
                View = scratch.View<float>();
            }
        }

        public void Dispose()
        {
            if (scratch is not null && x.Length > 0) L(x).Axpy(x.Grad!.View<float>(), scratch.View<float>());
        }
    }

    /// <summary>C = alpha op(A) op(B) + beta C, argument order of Cpu.Gemm.Run so backward code mirrors the
    /// CPU's. Large GEMMs take the TF32 tensor-core kernel when the Tf32 policy allows it and the
    /// accelerator can run it (ILGPU's CPU device here has 32-thread groups, too few: fp32 there).</summary>
    public static void Gemm(KernelLauncher l, bool tA, bool tB, int batch, int M, int N, int K, float alpha,
        ArrayView<float> a, int lda, long sA, ArrayView<float> b, int ldb, long sB, float beta, ArrayView<float> c, int ldc, long sC)
    {
        if (batch == 0 || M == 0 || N == 0) return;
        if (K == 0)
        {
            // An empty inner product: C = beta C (beta = 0 must not read C: it may be uninitialised).
            if (beta == 0f) l.Fill(c, 0f);
            else if (beta != 1f) l.Affine(c, c, beta, 0f);
            return;
        }
        if (Tf32.Use(batch, M, N, K) && l.SupportsTf32)
            l.SgemmTf32(c, a, b, M, N, K, tA, tB, alpha, beta, batch, sA, sB, sC, lda, ldb, ldc);
        else
            l.Sgemm(c, a, b, M, N, K, tA, tB, alpha, beta, batch, sA, sB, sC, lda, ldb, ldc);
    }

    /// <summary>y = op(x) with an activation kernel; backward dx += op'(x)·dy on the device.</summary>
    public static Tensor Unary<TOp>(Tensor x, string op) where TOp : struct, Kernels.IUnaryOp
    {
        F32(op, x);
        var l = L(x);
        var y = Empty(x.Shape, x.Device);
        if (x.Length > 0) l.UnaryForward<TOp>(V(y), V(x));
        return Autograd.Record(y, op, dy =>
        {
            if (!x.RequiresGrad || x.Length == 0) return;
            using var s = Sink(x);
            l.UnaryBackward<TOp>(s.View, V(dy), V(x), V(y));
        }, x);
    }

    /// <summary>a op b with numpy broadcasting to <paramref name="outShape"/>; gradients summed over broadcast axes.</summary>
    public static Tensor Binary<TOp>(Tensor a, Tensor b, int[] outShape, string op) where TOp : struct, IBinaryOp
    {
        var d = Common(op, a, b);
        F32(op, a, b);
        var l = L(d);
        var g = BroadcastArgs.For(outShape, a.Shape, b.Shape);
        var y = Empty(outShape, d);
        l.BroadcastForward<TOp>(V(y), V(a), V(b), g, y.Length);
        return Autograd.Record(y, op, dy =>
        {
            if (a.RequiresGrad) { using var s = Sink(a); l.BroadcastBackward<TOp>(s.View, V(dy), V(a), V(b), g, false, a.Length); }
            if (b.RequiresGrad) { using var s = Sink(b); l.BroadcastBackward<TOp>(s.View, V(dy), V(a), V(b), g, true, b.Length); }
        }, a, b);
    }
}
