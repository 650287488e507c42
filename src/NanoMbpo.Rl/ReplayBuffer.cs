// ReplayBuffer: a ring of transitions (s, a, r, s', terminated) in preallocated flat float arrays,
// sampled uniformly with replacement from a seeded Rng into caller-owned batch arrays (no
// allocation per batch). MBPO keeps two (real and model) and mixes them with SampleMixed. Save and
// Load write the whole ring (contents, cursor, size) for exact resume. Only `terminated` is stored:
// a truncated transition bootstraps like any other.
// Save writes atomically (AtomicFile); Load validates the header and the size before it reads a row.
// Tests: tests/NanoMbpo.Rl.Tests/ReplayBufferTests.cs; fuzz target rl-replay (tests/NanoMbpo.Tests/Reliability/FuzzTests.cs).
using System.Runtime.InteropServices;
using NanoMbpo.IO;

namespace NanoMbpo.Rl;

/// <summary>A sampled batch: row-major (B, obsDim), (B, actDim), (B), (B, obsDim), (B) arrays
/// wrapped in tensors once (Tensor.FromArray shares the array, so refilling updates the tensors).</summary>
public sealed class Batch
{
    public int Size { get; }
    public float[] Obs, Actions, Rewards, NextObs, Terminated;
    public Tensor ObsT, ActionsT, RewardsT, NextObsT, TerminatedT;
    /// <summary>Actions as I32 indices (B), filled for discrete action spaces.</summary>
    public int[] ActionIndex;
    public Tensor ActionIndexT;

    public Batch(int size, int obsDim, int actDim)
    {
        Size = size;
        Obs = new float[size * obsDim]; Actions = new float[size * actDim]; Rewards = new float[size];
        NextObs = new float[size * obsDim]; Terminated = new float[size]; ActionIndex = new int[size];
        ObsT = Tensor.FromArray(Obs, size, obsDim); ActionsT = Tensor.FromArray(Actions, size, actDim);
        RewardsT = Tensor.FromArray(Rewards, size, 1); NextObsT = Tensor.FromArray(NextObs, size, obsDim);
        TerminatedT = Tensor.FromArray(Terminated, size, 1); ActionIndexT = Tensor.FromArray(ActionIndex, size);
    }
}

public sealed class ReplayBuffer
{
    public int Capacity { get; }
    public int ObsDim { get; }
    public int ActDim { get; }
    /// <summary>Transitions held (≤ Capacity).</summary>
    public int Count { get; private set; }
    int next;   // slot the next Add writes
    readonly float[] obs, actions, rewards, nextObs, terminated;

    public ReplayBuffer(int capacity, int obsDim, int actDim)
    {
        if (capacity < 1 || obsDim < 1 || actDim < 1)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"replay buffer: capacity, obsDim and actDim must be >= 1 (got {capacity}, {obsDim}, {actDim}).");
        Capacity = capacity; ObsDim = obsDim; ActDim = actDim;
        obs = new float[(long)capacity * obsDim]; nextObs = new float[(long)capacity * obsDim];
        actions = new float[(long)capacity * actDim]; rewards = new float[capacity]; terminated = new float[capacity];
    }

    public void Add(ReadOnlySpan<float> s, ReadOnlySpan<float> a, double r, ReadOnlySpan<float> s2, bool term)
    {
        if (s.Length != ObsDim || s2.Length != ObsDim || a.Length != ActDim)
            throw new ArgumentException($"replay buffer: transition sizes ({s.Length}, {a.Length}, {s2.Length}) do not match ({ObsDim}, {ActDim}, {ObsDim}).");
        int i = next;
        s.CopyTo(obs.AsSpan(i * ObsDim, ObsDim));
        s2.CopyTo(nextObs.AsSpan(i * ObsDim, ObsDim));
        a.CopyTo(actions.AsSpan(i * ActDim, ActDim));
        rewards[i] = (float)r;
        terminated[i] = term ? 1f : 0f;
        next = (next + 1) % Capacity;
        Count = Math.Min(Count + 1, Capacity);
    }

    /// <summary>Copies transition <paramref name="index"/> (0 ≤ index &lt; Count) into row <paramref name="row"/> of the batch.</summary>
    public void CopyTo(int index, Batch b, int row)
    {
        obs.AsSpan(index * ObsDim, ObsDim).CopyTo(b.Obs.AsSpan(row * ObsDim, ObsDim));
        nextObs.AsSpan(index * ObsDim, ObsDim).CopyTo(b.NextObs.AsSpan(row * ObsDim, ObsDim));
        actions.AsSpan(index * ActDim, ActDim).CopyTo(b.Actions.AsSpan(row * ActDim, ActDim));
        b.Rewards[row] = rewards[index];
        b.Terminated[row] = terminated[index];
        b.ActionIndex[row] = (int)actions[index * ActDim];
    }

    /// <summary>Fills every row of <paramref name="b"/> with a transition drawn uniformly.</summary>
    public void Sample(Rng rng, Batch b) => SampleRows(rng, b, 0, b.Size);

    void SampleRows(Rng rng, Batch b, int start, int end)
    {
        if (Count == 0) throw new InvalidOperationException("replay buffer: cannot sample from an empty buffer.");
        for (int row = start; row < end; row++) CopyTo(rng.NextInt(Count), b, row);
    }

    /// <summary>MBPO's mix: round(ratio·B) rows from <paramref name="real"/>, the rest from
    /// <paramref name="model"/> (all real while the model buffer is empty).</summary>
    public static void SampleMixed(Rng rng, ReplayBuffer real, ReplayBuffer model, double realRatio, Batch b)
    {
        int nReal = model.Count == 0 ? b.Size : (int)Math.Round(realRatio * b.Size);
        real.SampleRows(rng, b, 0, nReal);
        if (nReal < b.Size) model.SampleRows(rng, b, nReal, b.Size);
    }

    /// <summary>Row <paramref name="index"/>'s observation (read-only view), e.g. a rollout start state.</summary>
    public ReadOnlySpan<float> ObsAt(int index) => obs.AsSpan(index * ObsDim, ObsDim);

    public void Clear() { Count = 0; next = 0; }

    /// <summary>Header bytes of a saved buffer: capacity, obsDim, actDim, count, cursor (int32 each).</summary>
    public const int HeaderBytes = 20;

    public void Save(string path) => AtomicFile.Write(path, stream =>
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(Capacity); w.Write(ObsDim); w.Write(ActDim); w.Write(Count); w.Write(next);
        foreach (var a in new[] { obs, actions, rewards, nextObs, terminated })
        {
            int per = a.Length / Capacity;
            w.Write(MemoryMarshal.AsBytes(a.AsSpan(0, Count * per)));
        }
    });

    /// <summary>Loads a buffer saved by <see cref="Save"/>; the header must match this buffer and the file must
    /// hold exactly count rows (checked before anything is read into the buffer), else InvalidDataException
    /// naming the file and the field.</summary>
    public void Load(string path)
    {
        using var f = File.OpenRead(path);
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (f.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) < HeaderBytes)
            throw new InvalidDataException($"replay buffer '{path}': field 'header' is cut short ({f.Length} bytes, {HeaderBytes} expected).");
        var h = MemoryMarshal.Cast<byte, int>(header);
        int cap = h[0], od = h[1], ad = h[2], count = h[3], nx = h[4];
        if (cap != Capacity || od != ObsDim || ad != ActDim)
            throw new InvalidDataException($"replay buffer '{path}': field 'shape' is ({cap}, {od}, {ad}), this buffer is ({Capacity}, {ObsDim}, {ActDim}).");
        if (count < 0 || count > cap) throw new InvalidDataException($"replay buffer '{path}': field 'count' is {count}, outside 0..{cap}.");
        if (nx < 0 || nx >= cap || count < cap && nx != count)
            throw new InvalidDataException($"replay buffer '{path}': field 'cursor' is {nx} with count {count} (capacity {cap}).");
        long rowBytes = 4L * (2 * od + ad + 2), expected = HeaderBytes + count * rowBytes;
        if (f.Length != expected)
            throw new InvalidDataException($"replay buffer '{path}': field 'rows' holds {f.Length - HeaderBytes} bytes, {count} rows need {expected - HeaderBytes}.");
        foreach (var a in new[] { obs, actions, rewards, nextObs, terminated })
        {
            int per = a.Length / Capacity;
            f.ReadExactly(MemoryMarshal.AsBytes(a.AsSpan(0, count * per)));
        }
        Count = count; next = nx;
    }
}
