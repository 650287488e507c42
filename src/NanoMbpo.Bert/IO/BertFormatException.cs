// BertFormatException: bad input to the BERT readers, converter and loader (a .NET assembly, an ONNX
// file, a weights directory). The message names the file, the field or key, and the expected and
// actual values. Tests: tests/NanoMbpo.Bert.Tests/*ReaderTests.cs, LoaderTests.cs.
namespace NanoMbpo.Bert.IO;

public sealed class BertFormatException : Exception
{
    /// <summary>The file that was being read.</summary>
    public string FilePath { get; }
    /// <summary>The field, key or resource at fault, when one is.</summary>
    public string? Field { get; }

    public BertFormatException(string path, string? field, string message)
        : base($"'{path}'{(field is null ? "" : $", {field}")}: {message}")
    {
        FilePath = path;
        Field = field;
    }
}
