// ThreadScratch: per-thread scratch arrays for op temporaries computed inside parallel chunks
// (softmax rows, elementwise backward terms), where the caller's TensorArena is not visible. Each
// thread keeps a few slots that grow to the largest request and are then reused, so a warmed-up
// step allocates nothing. A slot's contents are unspecified and valid until the same thread asks
// for that slot again; callers use distinct slots for arrays alive at the same time.
// Tests: tests/NanoMbpo.Tests/NN/EncoderStepTests.cs (allocation-free steps), Ops/SoftmaxTests.cs.
namespace NanoMbpo.Cpu;

internal static class ThreadScratch<T> where T : unmanaged
{
    public const int Slots = 4;
    [ThreadStatic] static T[]?[]? slots;

    /// <summary>A span of <paramref name="n"/> elements of slot <paramref name="slot"/> on this thread.</summary>
    public static Span<T> Get(int n, int slot = 0)
    {
        var s = slots ??= new T[]?[Slots];
        var a = s[slot];
        if (a is null || a.Length < n) s[slot] = a = GC.AllocateUninitializedArray<T>(Math.Max(n, a is null ? 0 : a.Length * 2));
        return a.AsSpan(0, n);
    }
}
