// BertEncoder: batched inference over texts. Sequences are tokenized, sorted by length and cut into
// batches whose padded length is rounded up to a bucket (a multiple of 8, at most max length), so little
// is spent on padding and each (B,T) shape reuses its own TensorArena (the replay hits: no allocation per
// op after the first batch of a shape). Runs under Autograd.NoGrad(). On the CPU the fused path
// (Cpu/BertInference.cs) runs instead unless Composed is set. On an accelerator (the model's parameter
// store moved there once, by the constructor's device argument) the composed ops run on the device
// kernels: per batch the ids, token types and padding mask are uploaded once, every activation lives in
// device buffers of the shape's arena (ServesDevice: no device allocation after a shape's first batch)
// and the last hidden state is downloaded once. Outputs in input order: the last hidden state, the
// [CLS] vector or the mask-aware mean (sentence-transformers' mean pooling), pooled on the host.
// Tests: tests/NanoMbpo.Bert.Tests/BertParityTests.cs, DeviceTests.cs (ILGPU's CPU accelerator, CUDA).
using ILGPU;
using ILGPU.Runtime;
using NanoMbpo.NN;

namespace NanoMbpo.Bert;

public enum Pooling { None, Cls, Mean }

public sealed class BertEncoder
{
    readonly Dictionary<(int B, int T), TensorArena> arenas = [];
    public BertModel Model { get; }
    public BertTextTokenizer Tokenizer { get; }
    public int MaxLength { get; }
    public int BatchSize { get; }
    public int Hidden => Model.Config.HiddenSize;
    /// <summary>Run the composed engine ops (BertModel.Forward in a TensorArena) instead of the fused
    /// CPU path (Cpu/BertInference.cs); the two are matched against each other in the tests.</summary>
    public bool Composed { get; init; }
    Cpu.BertInference? fused;

    /// <summary>Where the forward runs: where the model's parameters live.</summary>
    public Device Device => Model.Store.Device;

    /// <param name="device">Run on this device: a CPU-resident model's parameters are moved there once, in
    /// place (the model then lives there for every user). Null: wherever the model already is.</param>
    public BertEncoder(BertModel model, BertTextTokenizer tokenizer, int maxLength = 128, int batchSize = 32, Device? device = null)
    {
        if (maxLength < 2 || maxLength > model.Config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(maxLength), $"max length must be in [2, {model.Config.MaxPositionEmbeddings}], got {maxLength}");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size must be positive, got {batchSize}");
        Model = model; Tokenizer = tokenizer; MaxLength = maxLength; BatchSize = batchSize;
        if (device is not null && device != model.Store.Device)
        {
            if (!model.Store.Device.IsCpu)
                throw new InvalidOperationException($"BertEncoder: the model lives on {model.Store.Device}; it cannot also run on {device}.");
            model.Store.MoveTo(device);
        }
    }

    public BertEncoder(BertCheckpoint checkpoint, int maxLength = 128, int batchSize = 32, Device? device = null)
        : this(checkpoint.Model, new BertTextTokenizer(checkpoint.VocabPath), maxLength, batchSize, device) { }

    /// <summary>Padded length for a batch whose longest sequence has <paramref name="t"/> tokens.</summary>
    public int Bucket(int t) => Math.Min(MaxLength, (t + 7) / 8 * 8);

    /// <summary>Sentence embeddings (N, H) in input order (Cls or Mean pooling).</summary>
    public float[,] Embed(IReadOnlyList<string> texts, Pooling pooling, Action<int>? progress = null)
    {
        if (pooling == Pooling.None) throw new ArgumentException("Embed needs Cls or Mean pooling; use Encode for the hidden states.", nameof(pooling));
        var result = new float[texts.Count, Hidden];
        Encode(texts, (i, hidden, length) =>
        {
            var row = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref result[i, 0], Hidden);
            Pool(hidden, length, pooling, row);
        }, progress);
        return result;
    }

    /// <summary>Writes the pooled vector of one sequence's hidden state (T,H) with <paramref name="length"/> real tokens.</summary>
    public void Pool(ReadOnlySpan<float> hidden, int length, Pooling pooling, Span<float> into)
    {
        int h = Hidden;
        if (pooling == Pooling.Cls) { hidden[..h].CopyTo(into); return; }
        into.Clear();
        for (int t = 0; t < length; t++) System.Numerics.Tensors.TensorPrimitives.Add(into, hidden.Slice(t * h, h), into);
        System.Numerics.Tensors.TensorPrimitives.Divide(into, Math.Max(length, 1), into);
    }

    /// <summary>Runs every text; <paramref name="sink"/> gets (input index, hidden state (T,H) of the padded
    /// batch row — valid only during the call —, number of real tokens).</summary>
    public void Encode(IReadOnlyList<string> texts, Action<int, ReadOnlySpan<float>, int> sink, Action<int>? progress = null)
    {
        var seqs = texts.Select(t => Tokenizer.Encode(t, MaxLength)).ToArray();
        var order = Enumerable.Range(0, seqs.Length).OrderBy(i => seqs[i].Length).ToArray();
        int done = 0;
        for (int start = 0; start < order.Length; start += BatchSize)
        {
            var idx = order.AsSpan(start, Math.Min(BatchSize, order.Length - start)).ToArray();
            var batch = Tokenizer.Pad(idx.Select(i => seqs[i]).ToList(), Bucket(idx.Max(i => seqs[i].Length)));
            Run(batch, (row, hidden) => sink(idx[row], hidden, batch.Lengths[row]));
            done += idx.Length;
            progress?.Invoke(done);
        }
    }

    /// <summary>The last hidden state of a padded batch; <paramref name="sink"/> gets each row's (T,H)
    /// slice, valid only during the call (it lives in the batch shape's arena).</summary>
    public void Run(TokenBatch batch, Action<int, ReadOnlySpan<float>> sink)
    {
        int B = batch.Batch, T = batch.SeqLen, H = Hidden;
        if (!Composed && Model.Store.Device.IsCpu)
        {
            fused ??= new Cpu.BertInference(Model);
            var h = fused.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, B, T);   // (B·T,H)
            for (int b = 0; b < B; b++) sink(b, h.Slice(b * T * H, T * H));
            return;
        }
        var device = Device;
        if (!arenas.TryGetValue((B, T), out var arena))
        {
            if (arenas.Count >= 64) arenas.Clear();   // bound the memory kept for rare shapes
            arenas[(B, T)] = arena = new TensorArena { ServesDevice = !device.IsCpu };
        }
        using (Autograd.NoGrad())
        using (arena.Use())
        {
            var ids = Tensor.Zeros([B, T], DType.I32);        // (B,T)
            var types = Tensor.Zeros([B, T], DType.I32);      // (B,T)
            var pad = Tensor.Zeros([B, T], DType.I32);        // (B,T) nonzero = padding
            batch.InputIds.CopyTo(ids.I32);
            batch.TokenTypeIds.CopyTo(types.I32);
            var p = pad.I32;
            bool anyPad = false;
            for (int i = 0; i < p.Length; i++) { p[i] = 1 - batch.AttentionMask[i]; anyPad |= p[i] != 0; }
            // On a device: ids, types and positions are uploaded once each by the embedding ops, the mask once here.
            var mask = !anyPad ? null : device.IsCpu ? pad : pad.To(device);
            var last = Model.Forward(ids, types, mask);   // (B,T,H)
            Span<float> hidden;
            if (device.IsCpu) hidden = last.F32;
            else
            {
                var host = TensorArena.Scratch<float>(B * T * H);   // the one download per batch
                last.View<float>().CopyToCPU(host);
                hidden = host;
            }
            for (int b = 0; b < B; b++) sink(b, hidden.Slice(b * T * H, T * H));
        }
    }
}
