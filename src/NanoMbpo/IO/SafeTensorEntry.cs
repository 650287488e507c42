// One tensor of a safetensors file: name, dtype, shape and typed accessors on plain arrays/spans.
// Accessors convert only where the conversion is exact (F16/BF16 -> float, I32 -> long, ...); lossy ones
// (F64 -> float, I64 -> double) need allowNarrowing: true, and integer narrowing is range-checked.
// Tests: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NanoMbpo.IO;

/// <summary>A tensor record of a <see cref="SafeTensorsFile"/>; data is read when an accessor is called.</summary>
public sealed class SafeTensorEntry
{
    private readonly SafeTensorsFile _file;
    private readonly long _offset; // relative to the data buffer
    private readonly int[] _shape;

    public string Name { get; }
    public SafeTensorsDType DType { get; }
    public IReadOnlyList<int> Shape => _shape;
    public int Rank => _shape.Length;
    public long ElementCount { get; }
    public long ByteLength { get; }

    internal SafeTensorEntry(SafeTensorsFile file, string name, SafeTensorsDType dtype, int[] shape, long offset, long byteLength)
    {
        _file = file;
        Name = name;
        DType = dtype;
        _shape = shape;
        _offset = offset;
        ByteLength = byteLength;
        ElementCount = byteLength / SafeTensorsDTypes.SizeOf(dtype);
    }

    /// <summary>A copy of the shape.</summary>
    public int[] ShapeArray() => (int[])_shape.Clone();

    /// <summary>"(2,3,8) F32", for messages.</summary>
    public override string ToString() => $"{Name} ({string.Join(",", _shape)}) {DType}";

    /// <summary>The raw little-endian bytes.</summary>
    public byte[] ReadBytes()
    {
        var bytes = new byte[CheckedArrayLength(ByteLength)];
        _file.CopyBytes(_offset, bytes);
        return bytes;
    }

    /// <summary>Copies the raw little-endian bytes into <paramref name="destination"/> (exactly ByteLength long).</summary>
    public void CopyBytesTo(Span<byte> destination)
    {
        CheckLength(destination.Length, ByteLength, "bytes");
        _file.CopyBytes(_offset, destination);
    }

    public float[] ReadFloat32(bool allowNarrowing = false)
    {
        var result = new float[CheckedArrayLength(ElementCount)];
        ReadFloat32(result, allowNarrowing);
        return result;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> (ElementCount long), e.g. a slice of a flat parameter buffer.
    /// Exact from F32, F16, BF16, BOOL, U8, I8, U16, I16; F64 and 32/64-bit integers need allowNarrowing.
    /// </summary>
    public void ReadFloat32(Span<float> destination, bool allowNarrowing = false)
    {
        CheckLength(destination.Length, ElementCount, "elements");
        if (DType == SafeTensorsDType.F32) { CopyNative(MemoryMarshal.AsBytes(destination)); return; }
        bool exact = DType is SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.BOOL
            or SafeTensorsDType.U8 or SafeTensorsDType.I8 or SafeTensorsDType.U16 or SafeTensorsDType.I16;
        if (!exact && !allowNarrowing) throw NotExact("float32", "ReadFloat64() or allowNarrowing: true");
        var raw = ReadBytes();
        switch (DType)
        {
            case SafeTensorsDType.F16:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.AsSpan(2 * i));
                break;
            case SafeTensorsDType.BF16:
                // bfloat16 is the top half of a float32: widening is a shift.
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(2 * i)) << 16);
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(8 * i));
                break;
            default:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)IntegerAt(raw, i);
                break;
        }
    }

    public double[] ReadFloat64(bool allowNarrowing = false)
    {
        var result = new double[CheckedArrayLength(ElementCount)];
        ReadFloat64(result, allowNarrowing);
        return result;
    }

    /// <summary>Exact from every float dtype and integers up to 32 bits; I64/U64 need allowNarrowing (above 2^53).</summary>
    public void ReadFloat64(Span<double> destination, bool allowNarrowing = false)
    {
        CheckLength(destination.Length, ElementCount, "elements");
        if (DType == SafeTensorsDType.F64) { CopyNative(MemoryMarshal.AsBytes(destination)); return; }
        if (DType is SafeTensorsDType.I64 or SafeTensorsDType.U64 && !allowNarrowing)
            throw NotExact("float64", "ReadInt64() or allowNarrowing: true");
        if (DType is SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16)
        {
            var tmp = ReadFloat32();
            for (int i = 0; i < tmp.Length; i++) destination[i] = tmp[i];
            return;
        }
        var raw = ReadBytes();
        if (DType == SafeTensorsDType.U64)
            for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(8 * i));
        else
            for (int i = 0; i < destination.Length; i++) destination[i] = IntegerAt(raw, i);
    }

    public long[] ReadInt64()
    {
        var result = new long[CheckedArrayLength(ElementCount)];
        ReadInt64(result);
        return result;
    }

    /// <summary>From any integer dtype or BOOL; U64 values above long.MaxValue throw. Float dtypes throw.</summary>
    public void ReadInt64(Span<long> destination)
    {
        CheckLength(destination.Length, ElementCount, "elements");
        if (SafeTensorsDTypes.IsFloatingPoint(DType)) throw NotExact("int64", "a float accessor");
        if (DType == SafeTensorsDType.I64) { CopyNative(MemoryMarshal.AsBytes(destination)); return; }
        var raw = ReadBytes();
        for (int i = 0; i < destination.Length; i++) destination[i] = IntegerAt(raw, i);
    }

    public int[] ReadInt32()
    {
        var result = new int[CheckedArrayLength(ElementCount)];
        ReadInt32(result);
        return result;
    }

    /// <summary>From any integer dtype or BOOL; each value outside the int range throws naming its index.</summary>
    public void ReadInt32(Span<int> destination)
    {
        CheckLength(destination.Length, ElementCount, "elements");
        if (SafeTensorsDTypes.IsFloatingPoint(DType)) throw NotExact("int32", "a float accessor");
        if (DType == SafeTensorsDType.I32) { CopyNative(MemoryMarshal.AsBytes(destination)); return; }
        var raw = ReadBytes();
        for (int i = 0; i < destination.Length; i++)
        {
            long v = IntegerAt(raw, i);
            if (v < int.MinValue || v > int.MaxValue)
                throw new SafeTensorsFormatException(_file.Path, Name, null, $"element {i} = {v} does not fit in int32");
            destination[i] = (int)v;
        }
    }

    /// <summary>Integer element i of an integer/BOOL buffer as long (U64 range-checked).</summary>
    private long IntegerAt(byte[] raw, int i) => DType switch
    {
        SafeTensorsDType.BOOL => raw[i] != 0 ? 1 : 0,
        SafeTensorsDType.U8 => raw[i],
        SafeTensorsDType.I8 => (sbyte)raw[i],
        SafeTensorsDType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(2 * i)),
        SafeTensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(raw.AsSpan(2 * i)),
        SafeTensorsDType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(4 * i)),
        SafeTensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(4 * i)),
        SafeTensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(8 * i)),
        SafeTensorsDType.U64 => BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(8 * i)) is var u && u <= long.MaxValue
            ? (long)u
            : throw new SafeTensorsFormatException(_file.Path, Name, null, $"element {i} does not fit in int64"),
        _ => throw new InvalidOperationException($"{DType} is not an integer dtype"),
    };

    private void CopyNative(Span<byte> destination)
    {
        // The format is little-endian; a raw copy is only a valid decode on a little-endian host.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors reader needs a little-endian host");
        _file.CopyBytes(_offset, destination);
    }

    private void CheckLength(long actual, long expected, string unit)
    {
        if (actual != expected)
            throw new ArgumentException(
                $"safetensors file '{_file.Path}', tensor '{Name}' {string.Join("x", _shape)} {DType}: destination holds {actual} {unit}, expected {expected}",
                "destination");
    }

    private int CheckedArrayLength(long n) => n <= Array.MaxLength
        ? (int)n
        : throw new SafeTensorsFormatException(_file.Path, Name, null, $"{n} elements do not fit in one .NET array; read it into spans in parts");

    private InvalidOperationException NotExact(string target, string suggestion) => new(
        $"safetensors file '{_file.Path}', tensor '{Name}' is {DType}: converting to {target} is not exact; use {suggestion}");
}
