// The one exception type for malformed or inconsistent safetensors files: the message always names the
// file and, where there is one, the tensor and header field at fault.
// Tests: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
namespace NanoMbpo.IO;

/// <summary>A safetensors file (or buffer) violates the format; see <see cref="Message"/> for where.</summary>
public sealed class SafeTensorsFormatException : IOException
{
    /// <summary>Path (or caller-supplied source name) of the offending file.</summary>
    public string FilePath { get; }

    /// <summary>Tensor name at fault, or null for file-level problems.</summary>
    public string? TensorName { get; }

    /// <summary>Header field at fault ("dtype", "shape", "data_offsets", ...), or null.</summary>
    public string? Field { get; }

    public SafeTensorsFormatException(string source, string? tensorName, string? field, string problem, Exception? inner = null)
        : base(Compose(source, tensorName, field, problem), inner)
    {
        FilePath = source;
        TensorName = tensorName;
        Field = field;
    }

    private static string Compose(string source, string? tensorName, string? field, string problem)
    {
        var where = $"safetensors file '{source}'";
        if (tensorName is not null) where += $", tensor '{tensorName}'";
        if (field is not null) where += $", field '{field}'";
        return $"{where}: {problem}";
    }
}
