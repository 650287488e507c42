// BertTensorSet: a BERT checkpoint in memory as the converter sees it — a config, the vocabulary text
// and named little-endian tensors (Hugging Face BertModel keys, F32 weights, the I64 position_ids).
// Tensor bytes are slices of the source buffer where no transposition or widening was needed.
// Tests: tests/NanoMbpo.Bert.Tests/ConverterTests.cs.
using NanoMbpo.IO;

namespace NanoMbpo.Bert.IO;

public sealed record BertTensor(string Key, SafeTensorsDType DType, int[] Shape, ReadOnlyMemory<byte> Bytes);

public sealed class BertTensorSet
{
    public required BertConfig Config { get; init; }
    public required string Vocab { get; init; }
    public required List<BertTensor> Tensors { get; init; }
    /// <summary>What it was read from, for messages.</summary>
    public required string Source { get; init; }

    public IReadOnlyDictionary<string, int[]> Shapes() => Tensors.ToDictionary(t => t.Key, t => t.Shape, StringComparer.Ordinal);

    /// <summary>Float32 little-endian bytes of a (rows, cols) matrix given as (cols, rows): the transpose.</summary>
    internal static byte[] Transpose(ReadOnlySpan<float> src, int rows, int cols)
    {
        // src is (cols, rows) row-major; result (rows, cols) row-major.
        var dst = new float[rows * cols];
        for (int c = 0; c < cols; c++)
        {
            var row = src.Slice(c * rows, rows);
            for (int r = 0; r < rows; r++) dst[r * cols + c] = row[r];
        }
        var bytes = new byte[dst.Length * 4];
        Buffer.BlockCopy(dst, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>An I64 (1, n) tensor 0..n-1 (the position_ids buffer HF checkpoints carry).</summary>
    internal static BertTensor PositionIds(int n)
    {
        var b = new byte[n * 8];
        for (int i = 0; i < n; i++) BitConverter.TryWriteBytes(b.AsSpan(i * 8), (long)i);
        return new BertTensor(BertKeys.PositionIds, SafeTensorsDType.I64, [1, n], b);
    }
}
