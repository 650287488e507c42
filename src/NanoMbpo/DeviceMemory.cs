// Host <-> device copies and device allocation for tensor storage. Everything that touches ILGPU
// buffers from the tensor side goes through here, so ops only ever see typed ArrayViews. Inside a
// TensorArena that ServesDevice, Tensor.Zeros on a device and op outputs reuse the arena's buffers.
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo;

internal static class DeviceMemory
{
    public static MemoryBuffer Upload(Device device, Array src)
    {
        var acc = device.Accelerator ?? throw new InvalidOperationException("the CPU has no device buffers.");
        switch (src)
        {
            case float[] f: { var b = acc.Allocate1D<float>(Math.Max(1, f.Length)); if (f.Length > 0) b.View.SubView(0, f.Length).CopyFromCPU(f); return b; }
            case int[] i: { var b = acc.Allocate1D<int>(Math.Max(1, i.Length)); if (i.Length > 0) b.View.SubView(0, i.Length).CopyFromCPU(i); return b; }
            case double[]:
                throw new NotSupportedException($"float64 tensors stay on the CPU (gradient checks); {device} kernels are float32.");
            default: throw new NotSupportedException($"cannot upload {src.GetType().Name}.");
        }
    }

    public static Array Download(MemoryBuffer buffer, int length)
    {
        switch (buffer)
        {
            case MemoryBuffer1D<float, Stride1D.Dense> f: { var a = new float[length]; if (length > 0) f.View.SubView(0, length).CopyToCPU(a); return a; }
            case MemoryBuffer1D<int, Stride1D.Dense> i: { var a = new int[length]; if (length > 0) i.View.SubView(0, length).CopyToCPU(a); return a; }
            default: throw new NotSupportedException($"cannot download {buffer.GetType().Name}.");
        }
    }

    /// <summary>Uninitialised device memory, for op outputs a kernel overwrites completely (a zeroing
    /// pass is a whole extra launch, which dominates small ops on the CPU accelerator).</summary>
    public static MemoryBuffer AllocateUninitialized(Device device, DType dtype, int length)
    {
        var acc = device.Accelerator ?? throw new InvalidOperationException("the CPU has no device buffers.");
        return dtype switch
        {
            DType.F32 => acc.Allocate1D<float>(Math.Max(1, length)),
            DType.I32 => acc.Allocate1D<int>(Math.Max(1, length)),
            _ => throw new NotSupportedException($"{dtype} tensors stay on the CPU; {device} kernels are float32."),
        };
    }

    /// <summary>Zeroes a buffer made by this class (arena reuse of a device buffer for Tensor.Zeros).</summary>
    public static void Zero(MemoryBuffer buffer)
    {
        switch (buffer)
        {
            case MemoryBuffer1D<float, Stride1D.Dense> f: f.MemSetToZero(); break;
            case MemoryBuffer1D<int, Stride1D.Dense> i: i.MemSetToZero(); break;
            default: throw new NotSupportedException($"cannot zero {buffer.GetType().Name}.");
        }
    }

    public static MemoryBuffer AllocateZeroed(Device device, DType dtype, int length)
    {
        var acc = device.Accelerator ?? throw new InvalidOperationException("the CPU has no device buffers.");
        switch (dtype)
        {
            case DType.F32: { var b = acc.Allocate1D<float>(Math.Max(1, length)); b.MemSetToZero(); return b; }
            case DType.I32: { var b = acc.Allocate1D<int>(Math.Max(1, length)); b.MemSetToZero(); return b; }
            default: throw new NotSupportedException($"{dtype} tensors stay on the CPU; {device} kernels are float32.");
        }
    }
}

public sealed partial class Tensor
{
    /// <summary>The tensor's elements as a device view (the tensor must live on an accelerator).</summary>
    internal ArrayView<T> View<T>() where T : unmanaged
    {
        if (Storage.Buffer is MemoryBuffer1D<T, Stride1D.Dense> b) return b.View.SubView(Offset, Length);
        throw new InvalidOperationException($"{this} is not a {typeof(T).Name} tensor on an accelerator (it is on {Device}).");
    }

    /// <summary>Zeros on <paramref name="device"/>.</summary>
    public static Tensor Zeros(int[] shape, DType dtype, Device device)
    {
        if (device.IsCpu) return Zeros(shape, dtype);
        ShapeUtil.Validate(shape, nameof(shape));
        int n = ShapeUtil.Numel(shape);
        var st = NN.TensorArena.RentDevice(device, dtype, n, clear: true) ?? new Storage(DeviceMemory.AllocateZeroed(device, dtype, n), device);
        return new Tensor(st, 0, (int[])shape.Clone(), dtype);
    }

    /// <summary>An uninitialised tensor on an accelerator (every element must be written before use).</summary>
    internal static Tensor Uninitialized(int[] shape, DType dtype, Device device)
    {
        int n = ShapeUtil.Numel(shape);
        var st = NN.TensorArena.RentDevice(device, dtype, n, clear: false) ?? new Storage(DeviceMemory.AllocateUninitialized(device, dtype, n), device);
        return new Tensor(st, 0, (int[])shape.Clone(), dtype);
    }

    /// <summary>A copy on <paramref name="device"/> (no autograd link; the same tensor if already there).</summary>
    public Tensor To(Device device)
    {
        if (device == Device) return this;
        if (device.IsCpu)
        {
            var arr = DType == DType.F32 ? (Array)new float[Length] : new int[Length];
            if (Length > 0)
            {
                if (DType == DType.F32) View<float>().CopyToCPU((float[])arr); else View<int>().CopyToCPU((int[])arr);
            }
            return new Tensor(new Storage(arr), 0, (int[])Shape.Clone(), DType) { Name = Name };
        }
        var src = Device.IsCpu ? (DType == DType.F32 ? F32.ToArray() : DType == DType.I32 ? (Array)I32.ToArray() : F64.ToArray()) : To(Device.Cpu).Storage.Array;
        return new Tensor(new Storage(DeviceMemory.Upload(device, src), device), 0, (int[])Shape.Clone(), DType) { Name = Name };
    }
}
