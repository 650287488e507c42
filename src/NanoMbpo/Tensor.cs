// Tensor: an n-dimensional array in contiguous row-major storage (float32, float64 for gradient
// checks, int32 for indices), with the gradient and the autograd node that produced it.
// Storage is shared and replaceable so that a model's parameters can be views into one flat buffer.
// Tested by tests/NanoMbpo.Tests/Core/TensorTests.cs.
using System.Numerics;

namespace NanoMbpo;

public enum DType { F32, F64, I32 }

/// <summary>Backing memory of one or more tensors: a managed array on the CPU, or an ILGPU buffer on
/// an accelerator. Either may be swapped (a growing parameter buffer, a store moved to a GPU); views
/// keep working because they hold this object, not the memory.</summary>
public sealed class Storage
{
    Array? array;
    public Device Device { get; private set; } = Device.Cpu;
    /// <summary>The device buffer (MemoryBuffer1D&lt;T, Stride1D.Dense&gt;) when not on the CPU.</summary>
    public ILGPU.Runtime.MemoryBuffer? Buffer { get; private set; }

    /// <summary>Counts in-place modifications (optimizer steps, copies, loads). A recorded op notes the
    /// version of each tensor it saved; backward refuses to run on a saved tensor whose version moved
    /// (Autograd.cs), as torch's saved-tensor version counter does.</summary>
    internal int Version;

    public Storage(Array array) => this.array = array;
    public Storage(ILGPU.Runtime.MemoryBuffer buffer, Device device) { Buffer = buffer; Device = device; }

    public Array Array
    {
        get => array ?? throw new InvalidOperationException($"storage lives on {Device}; copy it to the CPU with To(Device.Cpu) first.");
        set { array = value; Buffer = null; Device = Device.Cpu; }
    }

    /// <summary>Moves the memory to another device in place (every view follows).</summary>
    public void MoveTo(Device device, int length)
    {
        if (device == Device) return;
        if (device.IsCpu) { array = DeviceMemory.Download(Buffer!, length); Buffer = null; }
        else
        {
            var src = array ?? DeviceMemory.Download(Buffer!, length);
            Buffer = DeviceMemory.Upload(device, src);
            array = null;
        }
        Device = device;
    }
}

public sealed partial class Tensor
{
    public int[] Shape { get; }
    public DType DType { get; }
    public Device Device => Storage.Device;
    public int Length { get; }
    internal Storage Storage { get; }
    internal int Offset { get; }

    /// <summary>Accumulated gradient (same shape and dtype); null until a backward pass reaches it.</summary>
    public Tensor? Grad { get; internal set; }
    public bool RequiresGrad { get; internal set; }
    internal Node? Node { get; set; }
    /// <summary>The in-place modification counter of this tensor's storage (shared by its views).</summary>
    public int Version => Storage.Version;

    /// <summary>Records that this tensor's memory was modified in place (its storage's version moves, for
    /// every view of it): call it after writing through Data&lt;T&gt;() into a tensor a recorded op may
    /// have saved. Engine in-place operations (optimizer steps, CopyFrom, Polyak, checkpoint loads)
    /// call it themselves.</summary>
    public void MarkModified() => Storage.Version++;

    /// <summary>Optional name used in error messages (parameter key, op output).</summary>
    public string? Name { get; set; }

    internal Tensor(Storage storage, int offset, int[] shape, DType dtype)
    {
        Shape = shape;
        DType = dtype;
        Storage = storage;
        Offset = offset;
        Length = ShapeUtil.Numel(shape);
    }

    public int Rank => Shape.Length;
    /// <summary>Size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int Dim(int axis) => Shape[ShapeUtil.Axis(axis, Rank)];
    public bool IsFloat => DType != DType.I32;
    public string ShapeString => ShapeUtil.Format(Shape);
    public override string ToString() => $"Tensor{ShapeString} {DType}{(Name is null ? "" : " '" + Name + "'")}";

    // ---- data access -------------------------------------------------------------------------
    public Span<T> Data<T>() where T : unmanaged
    {
        if (!Device.IsCpu) throw new InvalidOperationException($"{this} lives on {Device}; copy it with To(Device.Cpu) to read it on the host.");
        if (Storage.Array is T[] a) return a.AsSpan(Offset, Length);
        throw new InvalidOperationException($"{this}: requested {typeof(T).Name} data but the tensor holds {DType}.");
    }
    public Span<float> F32 => Data<float>();
    public Span<double> F64 => Data<double>();
    public Span<int> I32 => Data<int>();

    /// <summary>Element <paramref name="i"/> of the flat storage converted to double (any dtype).</summary>
    public double GetFlat(int i) => DType switch
    {
        DType.F32 => F32[i],
        DType.F64 => F64[i],
        _ => I32[i],
    };
    public void SetFlat(int i, double v)
    {
        switch (DType)
        {
            case DType.F32: F32[i] = (float)v; break;
            case DType.F64: F64[i] = v; break;
            default: I32[i] = checked((int)v); break;
        }
    }
    /// <summary>The single value of a one-element tensor.</summary>
    public double Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() needs a one-element tensor, got {this}.");
        // On an accelerator this reads one element back (a synchronisation point).
        return Device.IsCpu ? GetFlat(0) : To(Device.Cpu).GetFlat(0);
    }
    public float[] ToFloatArray() { var r = new float[Length]; for (int i = 0; i < Length; i++) r[i] = (float)GetFlat(i); return r; }
    public double[] ToDoubleArray() { var r = new double[Length]; for (int i = 0; i < Length; i++) r[i] = GetFlat(i); return r; }

    // ---- factories -----------------------------------------------------------------------------
    public static Tensor Zeros(int[] shape, DType dtype = DType.F32) => Allocate(shape, dtype, clear: true);

    /// <summary>A tensor whose contents are unspecified (stale arena data or uninitialised memory):
    /// for op outputs that are overwritten in full, saving the pass that zeroing costs.</summary>
    internal static Tensor Empty(int[] shape, DType dtype) => Allocate(shape, dtype, clear: false);

    static Tensor Allocate(int[] shape, DType dtype, bool clear)
    {
        ShapeUtil.Validate(shape, nameof(shape));
        int n = ShapeUtil.Numel(shape);
        var storage = NN.TensorArena.Current?.Rent(dtype, n, clear)   // buffer reuse across steps (NN/TensorArena.cs)
            ?? new Storage(clear ? dtype switch { DType.F32 => new float[n], DType.F64 => new double[n], _ => new int[n] }
                      : dtype switch
                      {
                          DType.F32 => GC.AllocateUninitializedArray<float>(n),
                          DType.F64 => GC.AllocateUninitializedArray<double>(n),
                          _ => GC.AllocateUninitializedArray<int>(n),
                      });
        return new Tensor(storage, 0, (int[])shape.Clone(), dtype);
    }
    public static Tensor Zeros(params int[] shape) => Zeros(shape, DType.F32);
    public static Tensor ZerosLike(Tensor t) => Zeros(t.Shape, t.DType);
    public static Tensor Full(int[] shape, double value, DType dtype = DType.F32)
    {
        var t = Zeros(shape, dtype);
        for (int i = 0; i < t.Length; i++) t.SetFlat(i, value);
        return t;
    }
    public static Tensor Ones(int[] shape, DType dtype = DType.F32) => Full(shape, 1.0, dtype);
    public static Tensor Scalar(double v, DType dtype = DType.F32) => Full([], v, dtype);

    public static Tensor FromArray(float[] data, params int[] shape) => FromArrayCore(data, shape, DType.F32);
    public static Tensor FromArray(double[] data, params int[] shape) => FromArrayCore(data, shape, DType.F64);
    public static Tensor FromArray(int[] data, params int[] shape) => FromArrayCore(data, shape, DType.I32);
    static Tensor FromArrayCore(Array data, int[] shape, DType dtype)
    {
        ShapeUtil.Validate(shape, nameof(shape));
        if (ShapeUtil.Numel(shape) != data.Length)
            throw new ArgumentException($"data has {data.Length} elements but shape {ShapeUtil.Format(shape)} needs {ShapeUtil.Numel(shape)}.", nameof(data));
        return new Tensor(new Storage(data), 0, (int[])shape.Clone(), dtype);
    }

    /// <summary>Uniform values in [lo, hi) drawn from <paramref name="rng"/>.</summary>
    public static Tensor Uniform(Rng rng, int[] shape, double lo, double hi, DType dtype = DType.F32)
    {
        var t = Zeros(shape, dtype);
        for (int i = 0; i < t.Length; i++) t.SetFlat(i, lo + (hi - lo) * rng.NextDouble());
        return t;
    }
    /// <summary>Normal values with the given mean and standard deviation.</summary>
    public static Tensor Randn(Rng rng, int[] shape, double std = 1.0, double mean = 0.0, DType dtype = DType.F32)
    {
        var t = Zeros(shape, dtype);
        for (int i = 0; i < t.Length; i++) t.SetFlat(i, mean + std * rng.Normal());
        return t;
    }

    /// <summary>A copy of the data converted to <paramref name="dtype"/> (no autograd link).</summary>
    public Tensor To(DType dtype)
    {
        var t = Zeros(Shape, dtype);
        for (int i = 0; i < Length; i++) t.SetFlat(i, GetFlat(i));
        return t;
    }
    /// <summary>A deep copy of the data with no autograd link.</summary>
    public Tensor Clone() => To(DType);

    /// <summary>The same data, cut from the graph: no gradient flows through the result.</summary>
    public Tensor Detach() => new(Storage, Offset, Shape, DType) { Name = Name };

    /// <summary>Marks a leaf tensor as needing a gradient (like torch's requires_grad_()).</summary>
    public Tensor RequireGrad(bool on = true)
    {
        if (Node is not null) throw new InvalidOperationException($"{this} is not a leaf; only leaves can be marked.");
        if (on && !IsFloat) throw new InvalidOperationException($"{this}: integer tensors cannot require gradients.");
        RequiresGrad = on;
        return this;
    }

    /// <summary>Gradient storage to accumulate into, allocated zeroed on first use.</summary>
    internal Span<T> GradData<T>() where T : unmanaged
    {
        Grad ??= Zeros(Shape, DType);
        return Grad.Data<T>();
    }

    /// <summary>Gradient storage for a backward pass that can either add into it or write every
    /// element. With no gradient yet, allocates it uninitialised and sets <paramref name="accumulate"/>
    /// false: the caller must then overwrite all of it (a GEMM with beta = 0, a store instead of an
    /// add), which skips both the zero fill and the read of zeros.</summary>
    internal Span<T> GradForWrite<T>(out bool accumulate) where T : unmanaged
    {
        accumulate = Grad is not null;
        Grad ??= Empty(Shape, DType);
        return Grad.Data<T>();
    }

    /// <summary>Clears the accumulated gradient in place (a parameter's gradient stays a view into its flat buffer).</summary>
    public void ZeroGrad()
    {
        if (Grad is null) return;
        if (!Grad.Device.IsCpu) { if (Grad.Length > 0) Dev.L(Grad).Fill(Grad.View<float>(), 0f); return; }
        switch (DType)
        {
            case DType.F32: Grad.F32.Clear(); break;
            case DType.F64: Grad.F64.Clear(); break;
        }
    }

    /// <summary>Throws if any element is NaN or infinite, naming <paramref name="what"/>.</summary>
    public void CheckFinite(string what)
    {
        if (!Device.IsCpu) { To(Device.Cpu).CheckFinite(what); return; }
        for (int i = 0; i < Length; i++)
        {
            double v = GetFlat(i);
            if (!double.IsFinite(v))
                throw new NonFiniteException($"{what}: {(double.IsNaN(v) ? "NaN" : "Inf")} at flat index {i} of {this}.");
        }
    }
}

/// <summary>A NaN or Inf reached a place that must stay finite (a loss, a gradient).</summary>
public sealed class NonFiniteException(string message) : Exception(message);

/// <summary>Helpers for shapes: element counts, axis normalisation and formatting.</summary>
public static class ShapeUtil
{
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"shape {Format(shape)} has more than int.MaxValue elements.");
        return (int)n;
    }
    public static void Validate(int[] shape, string arg)
    {
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"negative dimension in shape {Format(shape)}.", arg);
    }
    public static int Axis(int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is out of range for rank {rank}.");
        return a;
    }
    public static string Format(ReadOnlySpan<int> shape) => "(" + string.Join(",", shape.ToArray()) + ")";
    public static bool Same(int[] a, int[] b) => a.AsSpan().SequenceEqual(b);
    /// <summary>Product of all dimensions but the last (rows) and the last (cols).</summary>
    public static (int Rows, int Cols) RowsCols(int[] shape)
    {
        if (shape.Length == 0) return (1, 1);
        int cols = shape[^1];
        return (cols == 0 ? 0 : Numel(shape) / cols, cols);
    }
}
