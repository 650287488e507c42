// `nanombpo version`: prints the engine version and the SIMD features this CPU offers.
using System.CommandLine;
using System.Runtime.Intrinsics;

namespace NanoMbpo.Trainer.Commands;

internal static class VersionCommand
{
    public static Command Create()
    {
        var cmd = new Command("version", "Print the engine version and the CPU features in use.");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($"nanombpo {typeof(CommandList).Assembly.GetName().Version}");
            Console.WriteLine($"Vector512: {Vector512.IsHardwareAccelerated}, Vector256: {Vector256.IsHardwareAccelerated}, cores: {Environment.ProcessorCount}");
            return 0;
        });
        return cmd;
    }
}
