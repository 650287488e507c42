// Replay of real dialog turns, stored as utterance-id windows (not latents: the latent encoder keeps
// learning, so every batch re-encodes its windows with the current encoder): (window_t, action, reward,
// window_{t+1}, terminated), preallocated flat arrays, seeded uniform sampling, and the ids of the
// dialog each turn came from (warm-start corpus turns are counted apart from online ones).
// Tested by tests/NanoMbpo.Agent.Tests/LatentTests.cs.
namespace NanoMbpo.Agent;

public sealed class DialogReplay
{
    public int Capacity { get; }
    public int L { get; }
    public int Count { get; private set; }
    int next;
    readonly int[] s, s2, a;
    readonly float[] r;
    readonly byte[] term;

    public DialogReplay(int capacity, int maxSeqLen)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "expected a positive capacity");
        Capacity = capacity; L = maxSeqLen;
        s = new int[capacity * L]; s2 = new int[capacity * L]; a = new int[capacity]; r = new float[capacity]; term = new byte[capacity];
    }

    public void Add(ReadOnlySpan<int> window, int action, double reward, ReadOnlySpan<int> nextWindow, bool terminated)
    {
        window.CopyTo(s.AsSpan(next * L, L));
        nextWindow.CopyTo(s2.AsSpan(next * L, L));
        a[next] = action; r[next] = (float)reward; term[next] = terminated ? (byte)1 : (byte)0;
        next = (next + 1) % Capacity;
        Count = Math.Min(Count + 1, Capacity);
    }

    /// <summary>The index of the turn added <paramref name="back"/> turns ago (0 = the newest).</summary>
    public int Recent(int back) => ((next - 1 - back) % Capacity + Capacity) % Capacity;

    public ReadOnlySpan<int> Window(int i) => s.AsSpan(i * L, L);
    public ReadOnlySpan<int> NextWindow(int i) => s2.AsSpan(i * L, L);
    public int Action(int i) => a[i];
    public float Reward(int i) => r[i];
    public bool Terminated(int i) => term[i] != 0;

    /// <summary>Copies row <paramref name="i"/> into row <paramref name="row"/> of a batch.</summary>
    public void CopyTo(int i, DialogBatch b, int row)
    {
        Window(i).CopyTo(b.S.AsSpan(row * L, L));
        NextWindow(i).CopyTo(b.S2.AsSpan(row * L, L));
        b.A[row] = a[i]; b.R[row] = r[i]; b.Term[row] = term[i];
    }

    /// <summary>The most recent n turns as latent world-model data: inputs [z, 0] and φ(a), targets [r, z', done],
    /// with z and z' from <paramref name="encode"/> (the target encoder; (n·L ids, n) → (n, Z)).</summary>
    public NanoMbpo.Rl.ReplayBuffer LatentTransitions(int n, Func<int[], int, float[]> encode, int z, float[] actionFeatures, int fd)
    {
        var s = new int[n * L]; var s2 = new int[n * L];
        for (int i = 0; i < n; i++) { int k = Recent(i); Window(k).CopyTo(s.AsSpan(i * L)); NextWindow(k).CopyTo(s2.AsSpan(i * L)); }
        var zs = encode(s, n); var z2s = encode(s2, n);
        var data = new NanoMbpo.Rl.ReplayBuffer(n, z + 1, fd);
        var x = new float[z + 1]; var x2 = new float[z + 1];
        for (int i = 0; i < n; i++)
        {
            int k = Recent(i);
            zs.AsSpan(i * z, z).CopyTo(x); z2s.AsSpan(i * z, z).CopyTo(x2);
            x2[z] = Terminated(k) ? 1 : 0;
            data.Add(x, actionFeatures.AsSpan(Action(k) * fd, fd), Reward(k), x2, Terminated(k));
        }
        return data;
    }

    public void Sample(Rng rng, DialogBatch b, int rows)
    {
        if (Count == 0) throw new InvalidOperationException("dialog replay: cannot sample from an empty buffer.");
        b.Rows = rows;
        for (int row = 0; row < rows; row++) CopyTo(rng.NextInt(Count), b, row);
    }
}

/// <summary>A batch of real turns: windows (B,L), next windows, actions, rewards, terminal flags.</summary>
public sealed class DialogBatch(int capacity, int L)
{
    public int Rows { get; set; }
    public int[] S { get; } = new int[capacity * L];
    public int[] S2 { get; } = new int[capacity * L];
    public int[] A { get; } = new int[capacity];
    public float[] R { get; } = new float[capacity];
    public byte[] Term { get; } = new byte[capacity];
}

/// <summary>World-model rollouts in latent space: a ring of (z, a, r, z', done) rows.</summary>
public sealed class LatentReplay(int capacity, int Z)
{
    readonly float[] z = new float[capacity * Z], z2 = new float[capacity * Z], r = new float[capacity];
    readonly int[] a = new int[capacity];
    readonly byte[] term = new byte[capacity];
    int next;
    public int Count { get; private set; }
    public int Capacity => capacity;

    public void Add(ReadOnlySpan<float> s, int action, float reward, ReadOnlySpan<float> s2, bool terminated)
    {
        s.CopyTo(z.AsSpan(next * Z, Z)); s2.CopyTo(z2.AsSpan(next * Z, Z));
        a[next] = action; r[next] = reward; term[next] = terminated ? (byte)1 : (byte)0;
        next = (next + 1) % capacity;
        Count = Math.Min(Count + 1, capacity);
    }

    public void Sample(Rng rng, LatentBatch b, int rows)
    {
        b.Rows = rows;
        for (int row = 0; row < rows; row++)
        {
            int i = rng.NextInt(Count);
            z.AsSpan(i * Z, Z).CopyTo(b.Z.AsSpan(row * Z, Z)); z2.AsSpan(i * Z, Z).CopyTo(b.Z2.AsSpan(row * Z, Z));
            b.A[row] = a[i]; b.R[row] = r[i]; b.Term[row] = term[i];
        }
    }
}
