// Add: a + b with broadcasting (Broadcast.cs), and x + scalar. Backward: da = dy and db = dy, each
// summed over the dims where that operand was broadcast. Also the Tensor operators + (tensor or
// double on either side). Gradient check: catalog "add*"; tests: tests/NanoMbpo.Tests/Ops/BinaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>a + b, broadcasting as torch (e.g. (B,T,C)+(C), (B,T,C)+(B,T,1), scalar).</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        var plan = Broadcast.Plan(a, b, "add");
        if (Dev.OnDevice("add", a, b)) return Dev.Binary<Kernels.AddOp>(a, b, plan.OutShape, "add");
        var y = Tensor.Zeros(plan.OutShape, a.DType);
        if (a.DType == DType.F32) plan.Apply<float, AddOp>(a.F32, b.F32, y.F32);
        else plan.Apply<double, AddOp>(a.F64, b.F64, y.F64);
        return Autograd.Record(y, "add", dy =>
        {
            if (a.DType == DType.F32) AddBackward<float>(plan, a, b, dy);
            else AddBackward<double>(plan, a, b, dy);
        }, a, b);
    }

    static void AddBackward<T>(Broadcast plan, Tensor a, Tensor b, Tensor dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.RequiresGrad) plan.ReduceInto<T>(dy.Data<T>(), true, a.GradData<T>(), T.One);
        if (b.RequiresGrad) plan.ReduceInto<T>(dy.Data<T>(), false, b.GradData<T>(), T.One);
    }

    /// <summary>x + s for a constant s.</summary>
    public static Tensor AddScalar(Tensor x, double s)
    {
        OpCheck.Float(x, "add_scalar", "x");
        if (!x.Device.IsCpu) return AddScalarOnDevice(x, s);
        var y = Tensor.Zeros(x.Shape, x.DType);
        if (x.DType == DType.F32) TensorPrimitives.Add(x.F32, (float)s, y.F32);
        else TensorPrimitives.Add(x.F64, s, y.F64);
        return Autograd.Record(y, "add_scalar", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) Cpu.Vec.AddInPlace(x.GradData<float>(), dy.F32);
            else Cpu.Vec.AddInPlace(x.GradData<double>(), dy.F64);
        }, x);
    }

    /// <summary>Device twin of AddScalar: y = x + s; dx += dy.</summary>
    static Tensor AddScalarOnDevice(Tensor x, double s)
    {
        Dev.F32("add_scalar", x);
        var y = Dev.Empty(x.Shape, x.Device);
        Dev.L(x).Affine(Dev.V(y), Dev.V(x), 1f, (float)s);
        return Autograd.Record(y, "add_scalar", dy => { if (x.RequiresGrad) Dev.Accumulate(x, dy); }, x);
    }

    [GradCases(Op = "add", Cpu = nameof(Add), Tolerance = ToleranceClass.Pointwise,
        Kernels = "BroadcastKernels ScalarKernels")]
    static IEnumerable<GradCase> AddCases()
    {
        yield return GradCase.Simple("add", x => Add(x[0], x[1]), [3, 4], [3, 4]);
        yield return GradCase.Simple("add_row", x => Add(x[0], x[1]), [2, 3, 4], [4]);
        yield return GradCase.Simple("add_row_rev", x => Add(x[0], x[1]), [4], [2, 3, 4]);
        yield return GradCase.Simple("add_col", x => Add(x[0], x[1]), [2, 3, 4], [2, 3, 1]);
        yield return GradCase.Simple("add_col_rev", x => Add(x[0], x[1]), [3, 1], [3, 5]);
        yield return GradCase.Simple("add_scalar_b", x => Add(x[0], x[1]), [3, 4], []);
        yield return GradCase.Simple("add_one_b", x => Add(x[0], x[1]), [3, 4], [1]);
        yield return GradCase.Simple("add_middle", x => Add(x[0], x[1]), [2, 3, 4], [2, 1, 4]);
        yield return GradCase.Simple("add_outer", x => Add(x[0], x[1]), [3, 1], [1, 4]);
        yield return GradCase.Simple("add_scalar_op", x => AddScalar(x[0], 0.7), [2, 3]);
    }
}

/// <summary>Span kernel for add.</summary>
internal struct AddOp : IBinarySpanOp
{
    public static void VV<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Add(a, b, o);
    public static void VS<T>(ReadOnlySpan<T> a, T b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Add(a, b, o);
    public static void SV<T>(T a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Add(b, a, o);
}

public sealed partial class Tensor
{
    public static Tensor operator +(Tensor a, Tensor b) => F.Add(a, b);
    public static Tensor operator +(Tensor a, double s) => F.AddScalar(a, s);
    public static Tensor operator +(double s, Tensor a) => F.AddScalar(a, s);
}
