// Element types of the safetensors format (https://github.com/huggingface/safetensors), their JSON
// spellings and byte sizes. Used by SafeTensorsFile (reader) and SafeTensorsWriter.
// Tests: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
namespace NanoMbpo.IO;

/// <summary>Element type of a safetensors entry; names match the header's "dtype" strings.</summary>
public enum SafeTensorsDType
{
    // Declared in the reference implementation's order (increasing alignment); the writer sorts by it.
    BOOL,
    U8,
    I8,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

/// <summary>Parsing and size helpers for <see cref="SafeTensorsDType"/>.</summary>
public static class SafeTensorsDTypes
{
    /// <summary>All dtype spellings this implementation understands, for error messages.</summary>
    public static readonly string Supported = string.Join(", ", Enum.GetNames<SafeTensorsDType>());

    /// <summary>Bytes per element.</summary>
    public static int SizeOf(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.BOOL or SafeTensorsDType.U8 or SafeTensorsDType.I8 => 1,
        SafeTensorsDType.U16 or SafeTensorsDType.I16 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.U32 or SafeTensorsDType.I32 or SafeTensorsDType.F32 => 4,
        SafeTensorsDType.U64 or SafeTensorsDType.I64 or SafeTensorsDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>The header spelling ("F32", "BF16", ...).</summary>
    public static string ToHeaderString(SafeTensorsDType dtype) => dtype.ToString();

    /// <summary>Parses a header dtype string exactly (case-sensitive, as the reference implementation).</summary>
    public static bool TryParse(string text, out SafeTensorsDType dtype)
    {
        // Enum.TryParse would also accept numbers and other casings; the format does not.
        foreach (var candidate in Enum.GetValues<SafeTensorsDType>())
        {
            if (string.Equals(candidate.ToString(), text, StringComparison.Ordinal))
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>True for F16, BF16, F32, F64.</summary>
    public static bool IsFloatingPoint(SafeTensorsDType dtype) =>
        dtype is SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F32 or SafeTensorsDType.F64;
}
