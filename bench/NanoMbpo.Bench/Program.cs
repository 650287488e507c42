// BenchmarkDotNet entry: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*'`.
// Each benchmark class measures our code and its anchor (naive C#) side by side; see bench/RESULTS.md.
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
