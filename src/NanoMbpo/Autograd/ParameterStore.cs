// ParameterStore: all parameters of a model in one flat buffer, with one flat gradient buffer of the
// same layout. Zero-grad, optimizer steps, Polyak averaging and checkpoints are single passes over
// these two arrays; each parameter tensor is a view (offset, shape) into them.
// Tested by tests/NanoMbpo.Tests/Core/ParameterStoreTests.cs.
namespace NanoMbpo;

public sealed class ParameterStore
{
    readonly Storage data, grad;
    readonly List<Tensor> parameters = [];
    readonly Dictionary<string, Tensor> byName = new(StringComparer.Ordinal);
    public DType DType { get; }
    /// <summary>Total number of scalar parameters.</summary>
    public int Count { get; private set; }

    public ParameterStore(DType dtype = DType.F32, int initialCapacity = 1024)
    {
        if (dtype == DType.I32) throw new ArgumentException("parameters must be float32 or float64.", nameof(dtype));
        DType = dtype;
        capacity = Math.Max(initialCapacity, 16);
        data = new Storage(Alloc(capacity));
        grad = new Storage(Alloc(capacity));
    }

    Array Alloc(int n) => DType == DType.F32 ? new float[n] : new double[n];

    /// <summary>Allocates a zero-initialised parameter named <paramref name="name"/> (a unique key,
    /// e.g. a Hugging Face state-dict key) and returns its tensor view.</summary>
    /// <summary>The device the flat buffers (and so every parameter and gradient) live on.</summary>
    public Device Device => data.Device;

    /// <summary>Moves both flat buffers to <paramref name="device"/> in place: every parameter and
    /// gradient view follows. Create all parameters first (the buffers cannot grow on a device).</summary>
    public void MoveTo(Device device)
    {
        if (device == Device) return;
        if (!device.IsCpu && DType != DType.F32)
            throw new NotSupportedException($"parameter store: {DType} parameters stay on the CPU; {device} kernels are float32.");
        data.MoveTo(device, capacity);
        grad.MoveTo(device, capacity);
    }

    int capacity;

    /// <summary>A (Count) tensor over the whole flat parameter (or gradient) buffer, on its device.</summary>
    internal Tensor Flat(bool gradient) => new(gradient ? grad : data, 0, [Count], DType);

    public Tensor Create(string name, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (byName.ContainsKey(name)) throw new ArgumentException($"parameter '{name}' already exists.", nameof(name));
        ShapeUtil.Validate(shape, nameof(shape));
        int n = ShapeUtil.Numel(shape);
        // Keep every parameter 16-float aligned so SIMD passes and kernels see aligned starts.
        int offset = (Count + 15) & ~15;
        int needed = offset + n;
        if (needed > capacity)
        {
            if (!Device.IsCpu)
                throw new InvalidOperationException($"parameter '{name}': the store lives on {Device} and cannot grow there; create every parameter before MoveTo.");
            Grow(Math.Max(needed, capacity * 2));
        }
        var p = new Tensor(data, offset, (int[])shape.Clone(), DType) { Name = name, RequiresGrad = true };
        p.Grad = new Tensor(grad, offset, (int[])shape.Clone(), DType) { Name = name + ".grad" };
        Count = needed;
        parameters.Add(p);
        byName.Add(name, p);
        return p;
    }

    void Grow(int capacity)
    {
        var nd = Alloc(capacity);
        Array.Copy(data.Array, nd, Count);
        data.Array = nd;
        var ng = Alloc(capacity);
        Array.Copy(grad.Array, ng, Count);
        grad.Array = ng;
        this.capacity = nd.Length;
    }


    public IReadOnlyList<Tensor> Parameters => parameters;
    public Tensor this[string name] => byName.TryGetValue(name, out var p) ? p
        : throw new KeyNotFoundException($"no parameter named '{name}'.");
    public bool TryGet(string name, out Tensor? p) => byName.TryGetValue(name, out p);

    /// <summary>The whole flat parameter buffer (including alignment padding, which stays zero).</summary>
    public Span<T> Data<T>() where T : unmanaged => ((T[])data.Array).AsSpan(0, Count);
    /// <summary>The whole flat gradient buffer, same layout as <see cref="Data{T}"/>.</summary>
    public Span<T> Grad<T>() where T : unmanaged => ((T[])grad.Array).AsSpan(0, Count);

    public void ZeroGrad()
    {
        if (Device.IsCpu) { Array.Clear(grad.Array, 0, Count); return; }
        if (Count > 0) Dev.L(Device).Fill(Flat(true).View<float>(), 0f);
    }

    /// <summary>Records an in-place change of the parameter values (an optimizer step, a copy, a load):
    /// every parameter's version moves, so a recorded op that saved one refuses to run its backward.</summary>
    public void MarkModified() => data.Version++;

    /// <summary>Copies all values from a store with the same layout (e.g. a target network).</summary>
    public void CopyFrom(ParameterStore other)
    {
        CheckSameLayout(other);
        CheckSameDevice(other, "CopyFrom");
        MarkModified();
        if (!Device.IsCpu) { if (Count > 0) Dev.L(Device).Affine(Flat(false).View<float>(), other.Flat(false).View<float>(), 1f, 0f); return; }
        Array.Copy(other.data.Array, data.Array, Count);
    }

    /// <summary>A host copy of every float32 value, wherever the store lives (a snapshot, e.g. of the best policy so far).</summary>
    public float[] ToArray() => Device.IsCpu ? Data<float>().ToArray() : Flat(false).To(Device.Cpu).F32.ToArray();

    /// <summary>Overwrites every value with <paramref name="values"/> (a ToArray snapshot), wherever the store lives.</summary>
    public void CopyFrom(ReadOnlySpan<float> values)
    {
        if (values.Length != Count) throw new ArgumentException($"parameter store: {values.Length} values for a store of {Count}.", nameof(values));
        MarkModified();
        if (Device.IsCpu) { values.CopyTo(Data<float>()); return; }
        if (Count > 0) Dev.L(Device).Affine(Flat(false).View<float>(), Tensor.FromArray(values.ToArray(), Count).To(Device).View<float>(), 1f, 0f);
    }

    /// <summary>Polyak averaging in one pass: this = (1 - tau) * this + tau * source.</summary>
    public void PolyakUpdate(ParameterStore source, double tau)
    {
        CheckSameLayout(source);
        CheckSameDevice(source, "PolyakUpdate");
        MarkModified();
        if (!Device.IsCpu) { if (Count > 0) Dev.L(Device).Polyak(Flat(false).View<float>(), source.Flat(false).View<float>(), (float)tau); return; }
        if (DType == DType.F32)
        {
            var d = Data<float>(); var s = source.Data<float>(); float t = (float)tau;
            System.Numerics.Tensors.TensorPrimitives.Lerp(d, s, t, d);
        }
        else
        {
            var d = Data<double>(); var s = source.Data<double>();
            System.Numerics.Tensors.TensorPrimitives.Lerp(d, s, tau, d);
        }
    }

    void CheckSameDevice(ParameterStore other, string op)
    {
        if (other.Device != Device)
            throw new ArgumentException($"parameter store {op}: this store is on {Device} but the other is on {other.Device}.");
    }

    void CheckSameLayout(ParameterStore other)
    {
        if (other.DType != DType || other.Count != Count || other.parameters.Count != parameters.Count)
            throw new ArgumentException($"parameter stores differ in layout ({other.parameters.Count} tensors/{other.Count} values vs {parameters.Count}/{Count}).");
        for (int i = 0; i < parameters.Count; i++)
            if (parameters[i].Name != other.parameters[i].Name || !ShapeUtil.Same(parameters[i].Shape, other.parameters[i].Shape))
                throw new ArgumentException($"parameter {i} differs: '{parameters[i].Name}'{parameters[i].ShapeString} vs '{other.parameters[i].Name}'{other.parameters[i].ShapeString}.");
    }

    /// <summary>Global L2 norm of the gradient buffer (double accumulation).</summary>
    public double GradNorm() => !Device.IsCpu ? DeviceGradNorm() : DType == DType.F32
        ? Math.Sqrt(Cpu.Vec.DotDouble<float>(Grad<float>(), Grad<float>()))
        : Math.Sqrt(Cpu.Vec.DotDouble<double>(Grad<double>(), Grad<double>()));

    /// <summary>On a device: squares, one group-reduced sum, one float read back.</summary>
    double DeviceGradNorm()
    {
        if (Count == 0) return 0;
        var l = Dev.L(Device);
        var g = Flat(true).View<float>();
        var sq = Tensor.Zeros([Count], DType.F32, Device);
        l.BinaryForward<Kernels.MulOp>(sq.View<float>(), g, g, 1, Count);
        var sum = Tensor.Zeros([], DType.F32, Device);
        l.SumLastAxis(sum.View<float>(), sq.View<float>(), 1, Count);
        return Math.Sqrt(sum.Item());
    }
}
