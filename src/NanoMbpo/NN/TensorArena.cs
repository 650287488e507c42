// TensorArena: reuse of the arrays behind op outputs, activation gradients and op scratch (attention's
// probability matrix, backward temporaries) across training steps and inference calls. Inside
// `using (arena.Use())` every Tensor.Zeros, internal Tensor.Empty and TensorArena.Scratch is served
// from the arena: arrays are kept per (dtype, length), and each Use() makes them all available again,
// handed out in the order the previous pass took them. A step that makes the same requests as an
// earlier one allocates nothing (no large-object-heap churn, no page faults) and touches memory that
// is still in cache; a pass with other shapes (another batch or sequence bucket) adds its own arrays
// once and keeps them, so alternating shapes do not thrash. Arrays are cleared when handed out for
// Tensor.Zeros, and handed out as they are for Tensor.Empty and Scratch (overwritten in full).
// Contract: no tensor created inside a scope may be used after the next Use() of the same arena —
// read what you need (e.g. the loss value) before the scope ends. Parameters and their gradients
// live in the ParameterStore and are unaffected; but a non-parameter leaf that requires a gradient
// (an input marked RequireGrad) gets its .Grad from the arena inside the scope, so such leaves must
// not be reused across steps either.
// Device buffers (op outputs and scratch on an accelerator, Tensor.Zeros on a device) are served too
// only by an arena created with ServesDevice (opt-in: device code outside such a scope may keep what it
// allocates, e.g. optimizer state): BertEncoder's device path, so a batch shape seen before allocates
// no device memory. Uploads (To(device)) are never served.
// Tests: tests/NanoMbpo.Tests/NN/TensorArenaTests.cs; used by NN/MlpTrainStep.cs (bench mlp),
// NN/EncoderStep.cs (bench encoder), every training loop and BertEncoder (tests/NanoMbpo.Bert.Tests/DeviceTests.cs).
namespace NanoMbpo.NN;

public sealed class TensorArena
{
    [ThreadStatic] static TensorArena? current;
    // Per (dtype, length): the arrays held and how many of them this pass has handed out.
    readonly Dictionary<(DType, int), Bucket> buckets = [];
    // Per (device, dtype, length) when ServesDevice.
    readonly Dictionary<(Device, DType, int), Bucket> deviceBuckets = [];
    int arrayCount;

    /// <summary>Also serve device allocations inside Use() (see the file header); off by default.</summary>
    public bool ServesDevice { get; init; }

    sealed class Bucket
    {
        public readonly List<Storage> Arrays = [];   // a Storage per array, reused with it
        public int Used;
    }

    /// <summary>The arena serving Tensor.Zeros on this thread, or null.</summary>
    internal static TensorArena? Current => current;

    /// <summary>Number of arrays the arena holds (the most requests of one size any pass made, summed over sizes).</summary>
    public int ArrayCount => arrayCount;
    /// <summary>Arrays allocated because no free one of that dtype and length was held (grows only while shapes are new).</summary>
    public long Misses { get; private set; }
    /// <summary>Bytes held by the arena's arrays.</summary>
    public long BytesHeld { get; private set; }

    /// <summary>Makes this arena current on this thread and makes all its arrays available again.</summary>
    public Scope Use()
    {
        var s = new Scope(current);
        current = this;
        foreach (var b in buckets.Values) b.Used = 0;
        foreach (var b in deviceBuckets.Values) b.Used = 0;
        return s;
    }

    /// <summary>A device buffer of <paramref name="n"/> elements from the current arena when it serves
    /// devices, else null (the caller allocates). Zeroed on the device when <paramref name="clear"/>.</summary>
    internal static Storage? RentDevice(Device device, DType dtype, int n, bool clear)
    {
        var a = current;
        if (a is null || !a.ServesDevice) return null;
        if (!a.deviceBuckets.TryGetValue((device, dtype, n), out var b)) a.deviceBuckets[(device, dtype, n)] = b = new Bucket();
        if (b.Used < b.Arrays.Count)
        {
            var st = b.Arrays[b.Used++];
            if (clear) DeviceMemory.Zero(st.Buffer!);
            return st;
        }
        a.Misses++;
        a.arrayCount++;
        a.BytesHeld += (long)Math.Max(1, n) * 4;
        var storage = new Storage(clear ? DeviceMemory.AllocateZeroed(device, dtype, n) : DeviceMemory.AllocateUninitialized(device, dtype, n), device);
        b.Arrays.Add(storage);
        b.Used++;
        return storage;
    }

    internal Storage Rent(DType dtype, int n, bool clear = true)
    {
        if (!buckets.TryGetValue((dtype, n), out var b)) buckets[(dtype, n)] = b = new Bucket();
        if (b.Used < b.Arrays.Count)
        {
            var st = b.Arrays[b.Used++];
            if (clear) Array.Clear(st.Array);
            return st;
        }
        Misses++;
        arrayCount++;
        Array fresh = dtype switch { DType.F32 => new float[n], DType.F64 => new double[n], _ => new int[n] };  // zeroed either way
        BytesHeld += (long)n * (dtype == DType.F64 ? 8 : 4);
        var storage = new Storage(fresh);
        b.Arrays.Add(storage);
        b.Used++;
        return storage;
    }

    /// <summary>A scratch array of exactly <paramref name="n"/> elements with unspecified contents: from the
    /// current arena when there is one (valid until its next Use()), else freshly allocated.</summary>
    internal static T[] Scratch<T>(int n) where T : unmanaged
    {
        if (current is null) return GC.AllocateUninitializedArray<T>(n);
        var dt = typeof(T) == typeof(float) ? DType.F32 : typeof(T) == typeof(double) ? DType.F64
               : typeof(T) == typeof(int) ? DType.I32 : throw new NotSupportedException($"scratch of {typeof(T).Name}");
        return (T[])current.Rent(dt, n, clear: false).Array;
    }

    public readonly struct Scope : IDisposable
    {
        readonly TensorArena? previous;
        internal Scope(TensorArena? previous) => this.previous = previous;
        public void Dispose() => current = previous;
    }
}
