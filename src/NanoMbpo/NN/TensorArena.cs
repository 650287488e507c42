// TensorArena: opt-in reuse of the arrays behind op outputs and activation gradients across
// training steps. Inside `using (arena.Use())` every Tensor.Zeros (and internal Tensor.Empty) is served from the arena's list in
// request order; the next Use() starts again from the first array, so a step that makes the same
// requests as the last one allocates nothing (no large-object-heap churn, no gen2 collections) and
// touches memory that is still in cache. Arrays are cleared when handed out for Tensor.Zeros, and
// handed out as they are for Tensor.Empty (ops that overwrite their whole output).
// Contract: no tensor created inside a scope may be used after the next Use() of the same arena —
// read what you need (e.g. the loss value) before the scope ends. Parameters and their gradients
// live in the ParameterStore and are unaffected; but a non-parameter leaf that requires a gradient
// (an input marked RequireGrad) gets its .Grad from the arena inside the scope, so such leaves must
// not be reused across steps either.
// Tests: tests/NanoMbpo.Tests/NN/TensorArenaTests.cs; used by NN/MlpTrainStep.cs (bench mlp).
namespace NanoMbpo.NN;

public sealed class TensorArena
{
    [ThreadStatic] static TensorArena? current;
    readonly List<Array> arrays = [];
    int cursor;

    /// <summary>The arena serving Tensor.Zeros on this thread, or null.</summary>
    internal static TensorArena? Current => current;

    /// <summary>Number of arrays the arena holds (its high-water mark of requests per step).</summary>
    public int ArrayCount => arrays.Count;
    /// <summary>Arrays allocated because no reusable one matched (grows only while the step shape changes).</summary>
    public long Misses { get; private set; }

    /// <summary>Makes this arena current on this thread and rewinds it to its first array.</summary>
    public Scope Use()
    {
        var s = new Scope(current);
        current = this;
        cursor = 0;
        return s;
    }

    internal Array Rent(DType dtype, int n, bool clear = true)
    {
        if (cursor < arrays.Count)
        {
            var a = arrays[cursor];
            if (a.Length == n && Matches(a, dtype))
            {
                cursor++;
                if (clear) Array.Clear(a);
                return a;
            }
        }
        // A new shape in the sequence: allocate, and keep it at this position for the next step.
        Misses++;
        Array fresh = dtype switch { DType.F32 => new float[n], DType.F64 => new double[n], _ => new int[n] };  // zeroed either way
        if (cursor < arrays.Count) arrays[cursor] = fresh; else arrays.Add(fresh);
        cursor++;
        return fresh;
    }

    static bool Matches(Array a, DType dtype) => dtype switch
    {
        DType.F32 => a is float[],
        DType.F64 => a is double[],
        _ => a is int[],
    };

    public readonly struct Scope : IDisposable
    {
        readonly TensorArena? previous;
        internal Scope(TensorArena? previous) => this.previous = previous;
        public void Dispose() => current = previous;
    }
}
