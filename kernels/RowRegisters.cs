// Register-resident rows for the row kernels (softmax, log_softmax, layer_norm): each thread keeps
// up to 8 float4 slots of its row in registers, so a row is read from global memory exactly once.
// ILGPU neither unrolls loops nor promotes local arrays to registers (both measured in the sm_90
// PTX: a LocalMemory array stays in .local), so the slots are eight named fields and every per-slot
// step is written out eight times behind `if (n > s)`; n comes from a generic struct (RowSlots1..8),
// so after specialisation the dead slots vanish and no branch remains on the slot count.
// Layout: thread `lane` of a row team of `stride` threads (a warp, or a whole group for long rows)
// owns float4 columns q = lane + stride * s, i.e. elements 4q..4q+3; coalesced for every s.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.RowKernelTests"; PTX: PtxCompileTests.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>Four floats loaded and stored as one 16-byte access (ld/st .v4.f32 in the PTX).</summary>
public struct RowF4
{
    public float X, Y, Z, W;

    public static RowF4 All(float v) { RowF4 r; r.X = v; r.Y = v; r.Z = v; r.W = v; return r; }

    public readonly float Max() => XMath.Max(XMath.Max(X, Y), XMath.Max(Z, W));

    public readonly float Sum() => (X + Y) + (Z + W);
}

/// <summary>Compile-time float4 slots per thread: rows of up to 4 * Count * team-size floats.</summary>
public interface IRowSlots { int Count { get; } }
public struct RowSlots1 : IRowSlots { public readonly int Count => 1; }
public struct RowSlots2 : IRowSlots { public readonly int Count => 2; }
public struct RowSlots3 : IRowSlots { public readonly int Count => 3; }
public struct RowSlots4 : IRowSlots { public readonly int Count => 4; }
public struct RowSlots6 : IRowSlots { public readonly int Count => 6; }
public struct RowSlots8 : IRowSlots { public readonly int Count => 8; }

/// <summary>Who shares a row (one warp, several rows per group; or the whole group) and how a
/// float4 slot is moved (one vector access, needs cols % 4 == 0 and 16-byte aligned views; or four
/// guarded scalar accesses for any cols).</summary>
public interface IRowLayout { bool GroupPerRow { get; } bool Vector { get; } }
public struct WarpRowsVector : IRowLayout { public readonly bool GroupPerRow => false; public readonly bool Vector => true; }
public struct WarpRowsScalar : IRowLayout { public readonly bool GroupPerRow => false; public readonly bool Vector => false; }
public struct GroupRowVector : IRowLayout { public readonly bool GroupPerRow => true; public readonly bool Vector => true; }
public struct GroupRowScalar : IRowLayout { public readonly bool GroupPerRow => true; public readonly bool Vector => false; }

/// <summary>Where this thread's slots of one row lie, and the team reductions over the row.</summary>
public struct RowCursor
{
    public int Lane, Stride, Cols, Slots, Row;
    public long Base;          // index of the row's first element
    public bool Vector, GroupPerRow, Active;
    public ArrayView<float> Scratch;

    /// <summary>The cursor of the calling thread. In warp layout an idle warp past the last row
    /// re-reads the last row (never stores) instead of returning, so every lane reaches the same
    /// shuffles on every backend.</summary>
    public static RowCursor Create<TSlots, TLayout>(int rows, int cols, ArrayView<float> scratch)
        where TSlots : struct, IRowSlots where TLayout : struct, IRowLayout
    {
        RowCursor c;
        c.GroupPerRow = default(TLayout).GroupPerRow;
        c.Vector = default(TLayout).Vector;
        c.Slots = default(TSlots).Count;
        c.Cols = cols;
        c.Scratch = scratch;
        int row;
        if (c.GroupPerRow)
        {
            c.Lane = Group.IdxX; c.Stride = Group.DimX; row = Grid.IdxX;
        }
        else
        {
            c.Lane = Warp.LaneIdx; c.Stride = Warp.WarpSize;
            row = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        }
        c.Active = row < rows;
        if (!c.Active) row = rows - 1;
        c.Row = row;
        c.Base = (long)row * cols;
        return c;
    }

    /// <summary>First element of slot s (4q), relative to the row.</summary>
    public readonly int Elem(int s) => 4 * (Lane + Stride * s);

    public readonly float Sum(float v) => GroupPerRow ? GroupReduce.Sum(v, Scratch) : GroupReduce.WarpSum(v);

    public readonly float Max(float v) => GroupPerRow ? GroupReduce.Max(v, Scratch) : GroupReduce.WarpMax(v);

    /// <summary>Slot s of the row starting at element <paramref name="start"/> of <paramref name="v"/>
    /// (start = Base for (R,C) tensors, 0 for (C) parameters); missing elements read as fill.</summary>
    public readonly RowF4 Load(ArrayView<float> v, long start, int s, float fill)
    {
        int e = Elem(s);
        if (Vector)
        {
            if (e < Cols) return v.Cast<RowF4>()[(start + e) / 4];
            return RowF4.All(fill);
        }
        RowF4 r;
        long i = start + e;
        r.X = e < Cols ? v[i] : fill;
        r.Y = e + 1 < Cols ? v[i + 1] : fill;
        r.Z = e + 2 < Cols ? v[i + 2] : fill;
        r.W = e + 3 < Cols ? v[i + 3] : fill;
        return r;
    }

    public readonly void Store(ArrayView<float> v, int s, RowF4 r)
    {
        int e = Elem(s);
        if (!Active || e >= Cols) return;
        long i = Base + e;
        if (Vector) { v.Cast<RowF4>()[i / 4] = r; return; }
        v[i] = r.X;
        if (e + 1 < Cols) v[i + 1] = r.Y;
        if (e + 2 < Cols) v[i + 2] = r.Z;
        if (e + 3 < Cols) v[i + 3] = r.W;
    }

    /// <summary>r with the elements past the row end set to zero (for sums of squares).</summary>
    public readonly RowF4 Mask(int s, RowF4 r)
    {
        int e = Elem(s);
        if (e + 3 < Cols) return r;
        r.X = e < Cols ? r.X : 0f;
        r.Y = e + 1 < Cols ? r.Y : 0f;
        r.Z = e + 2 < Cols ? r.Z : 0f;
        r.W = 0f;
        return r;
    }
}

/// <summary>A per-slot map: returns the new value of slot s.</summary>
public interface IRowMap { RowF4 Apply(RowF4 v, int s); }

/// <summary>A per-slot fold into one float.</summary>
public interface IRowFold { float Fold(float acc, RowF4 v, int s); }

/// <summary>v * A + B elementwise.</summary>
public struct RowAffineMap : IRowMap
{
    public float A, B;
    public readonly RowF4 Apply(RowF4 v, int s)
    {
        v.X = v.X * A + B; v.Y = v.Y * A + B; v.Z = v.Z * A + B; v.W = v.W * A + B;
        return v;
    }
}

/// <summary>Running sum of v · Other over the slots.</summary>
public struct RowDotFold : IRowFold
{
    public RowRegs Other;
    public readonly float Fold(float acc, RowF4 v, int s)
    {
        var o = Other.Get(s);
        return acc + ((v.X * o.X + v.Y * o.Y) + (v.Z * o.Z + v.W * o.W));
    }
}

/// <summary>Up to eight float4 slots of one row, held in registers.</summary>
public struct RowRegs
{
    public RowF4 V0, V1, V2, V3, V4, V5, V6, V7;

    /// <summary>Slot s; s is a literal at every call site after inlining, so the switch folds.</summary>
    public readonly RowF4 Get(int s) => s switch
    {
        0 => V0, 1 => V1, 2 => V2, 3 => V3, 4 => V4, 5 => V5, 6 => V6, _ => V7,
    };

    public static RowRegs Load(in RowCursor c, ArrayView<float> v, float fill)
    {
        RowRegs r = default;
        int n = c.Slots;
        // All loads are issued before any use, so a thread has n * 16 bytes in flight.
        r.V0 = c.Load(v, c.Base, 0, fill);
        if (n > 1) r.V1 = c.Load(v, c.Base, 1, fill);
        if (n > 2) r.V2 = c.Load(v, c.Base, 2, fill);
        if (n > 3) r.V3 = c.Load(v, c.Base, 3, fill);
        if (n > 4) r.V4 = c.Load(v, c.Base, 4, fill);
        if (n > 5) r.V5 = c.Load(v, c.Base, 5, fill);
        if (n > 6) r.V6 = c.Load(v, c.Base, 6, fill);
        if (n > 7) r.V7 = c.Load(v, c.Base, 7, fill);
        return r;
    }

    public readonly void Store(in RowCursor c, ArrayView<float> v)
    {
        int n = c.Slots;
        c.Store(v, 0, V0);
        if (n > 1) c.Store(v, 1, V1);
        if (n > 2) c.Store(v, 2, V2);
        if (n > 3) c.Store(v, 3, V3);
        if (n > 4) c.Store(v, 4, V4);
        if (n > 5) c.Store(v, 5, V5);
        if (n > 6) c.Store(v, 6, V6);
        if (n > 7) c.Store(v, 7, V7);
    }

    public void Map<TMap>(int n, TMap f) where TMap : struct, IRowMap
    {
        V0 = f.Apply(V0, 0);
        if (n > 1) V1 = f.Apply(V1, 1);
        if (n > 2) V2 = f.Apply(V2, 2);
        if (n > 3) V3 = f.Apply(V3, 3);
        if (n > 4) V4 = f.Apply(V4, 4);
        if (n > 5) V5 = f.Apply(V5, 5);
        if (n > 6) V6 = f.Apply(V6, 6);
        if (n > 7) V7 = f.Apply(V7, 7);
    }

    public readonly float Fold<TFold>(int n, float acc, TFold f) where TFold : struct, IRowFold
    {
        acc = f.Fold(acc, V0, 0);
        if (n > 1) acc = f.Fold(acc, V1, 1);
        if (n > 2) acc = f.Fold(acc, V2, 2);
        if (n > 3) acc = f.Fold(acc, V3, 3);
        if (n > 4) acc = f.Fold(acc, V4, 4);
        if (n > 5) acc = f.Fold(acc, V5, 5);
        if (n > 6) acc = f.Fold(acc, V6, 6);
        if (n > 7) acc = f.Fold(acc, V7, 7);
        return acc;
    }

    public readonly float Max(int n) => Fold(n, float.NegativeInfinity, new MaxFold());

    public readonly float Sum(int n) => Fold(n, 0f, new SumFold());

    struct MaxFold : IRowFold { public readonly float Fold(float acc, RowF4 v, int s) => XMath.Max(acc, v.Max()); }

    struct SumFold : IRowFold { public readonly float Fold(float acc, RowF4 v, int s) => acc + v.Sum(); }
}

/// <summary>Launch shape of a register-row kernel: slots per thread, layout, group size and grid.</summary>
public readonly record struct RowPlan(int Slots, bool GroupPerRow, bool Vector, int GroupSize, int Groups)
{
    public Type SlotsType => Slots switch
    {
        1 => typeof(RowSlots1), 2 => typeof(RowSlots2), 3 => typeof(RowSlots3),
        4 => typeof(RowSlots4), 6 => typeof(RowSlots6), _ => typeof(RowSlots8),
    };

    public Type LayoutType => (GroupPerRow, Vector) switch
    {
        (false, true) => typeof(WarpRowsVector), (false, false) => typeof(WarpRowsScalar),
        (true, true) => typeof(GroupRowVector), _ => typeof(GroupRowScalar),
    };

    public string Key => $"{Slots}.{(GroupPerRow ? "group" : "warp")}.{(Vector ? "v4" : "scalar")}";

    /// <summary>Short form for bench tables, e.g. "warp v4x2" or "group(192) v4x4".</summary>
    public string Describe() => $"{(GroupPerRow ? $"group({GroupSize})" : "warp")} {(Vector ? "v4" : "f32")}x{Slots}";
}

public sealed partial class KernelLauncher
{
    static readonly int[] SlotChoices = [1, 2, 3, 4, 6, 8];

    /// <summary>Plans a register-row kernel for (r, c), or null when rows are too long to keep in
    /// registers (the launcher then uses the group-loop kernel). Short rows: one warp per row, four
    /// rows per group (no barrier; enough warps per SM to keep HBM busy). Long rows: one group per row
    /// with 4 (or 8) slots per thread. Vector access needs c % 4 == 0 and 16-byte aligned views.</summary>
    public RowPlan? PlanRows(int r, int c, params ArrayView<float>[] views)
    {
        if (r <= 0 || c <= 0) return null;
        bool vector = c % 4 == 0;
        foreach (var v in views) vector &= IsAligned16(v);
        int q = (c + 3) / 4;
        int need = (q + WarpSize - 1) / WarpSize;
        foreach (int n in SlotChoices)
            if (n >= need)
            {
                int perGroup = Math.Max(1, Math.Min(4, MaxGroupSize / WarpSize));
                return new RowPlan(n, false, vector, perGroup * WarpSize, (r + perGroup - 1) / perGroup);
            }
        int limit = Math.Min(1024, Math.Min(MaxGroupSize, GroupReduce.MaxWarps * WarpSize));
        foreach (int n in new[] { 4, 8 })
        {
            int g = ((q + n - 1) / n + WarpSize - 1) / WarpSize * WarpSize;
            if (g <= limit) return new RowPlan(n, true, vector, g, r);
        }
        return null;
    }

    /// <summary>True when the view's first element sits on a 16-byte boundary (device address).</summary>
    static bool IsAligned16(ArrayView<float> v) =>
        v.Length == 0 || (((IArrayView)v).Buffer.NativePtr.ToInt64() + ((IContiguousArrayView)v).IndexInBytes) % 16 == 0;

    /// <summary>Loads (once per accelerator and plan) the generic kernel <paramref name="method"/> of
    /// <paramref name="kernels"/> specialised for the plan's slots and layout.</summary>
    internal TLaunch RowKernel<TKernel, TLaunch>(Type kernels, string method, RowPlan plan,
        Func<Accelerator, TKernel, TLaunch> load) where TKernel : Delegate where TLaunch : class
    {
        // Keyed without building a string: this runs on every launch, and short kernels (a few µs)
        // are limited by host launch cost.
        var key = (kernels, method, plan.Slots, plan.GroupPerRow, plan.Vector);
        if (rowKernels.TryGetValue(key, out var hit)) return (TLaunch)hit;
        var loaded = Cache.Get($"{kernels.Name}.{method}.{plan.Key}", a =>
        {
            var mi = kernels.GetMethod(method)!.MakeGenericMethod(plan.SlotsType, plan.LayoutType);
            return load(a, (TKernel)mi.CreateDelegate(typeof(TKernel)));
        });
        rowKernels[key] = loaded;
        return loaded;
    }

    readonly System.Collections.Concurrent.ConcurrentDictionary<(Type, string, int, bool, bool), object> rowKernels = new();
}
