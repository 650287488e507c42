// BenchmarkDotNet entry: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*'`.
// Each benchmark class measures our code and its anchor (naive C#) side by side; see bench/RESULTS.md.
using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "bert-interleaved")
{
    NanoMbpo.Bench.BertVsOrtBench.Interleaved(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5, args.Length > 2 ? args[2] : null);
    return;
}
if (args.Length > 2 && args[0] == "bert-profile")
{
    NanoMbpo.Bench.BertVsOrtBench.Profile(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    return;
}
if (args.Length > 0 && args[0] == "bert-gemm")
{
    NanoMbpo.Bench.PackedGemmBench.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
