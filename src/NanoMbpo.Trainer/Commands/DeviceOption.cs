// The shared `--device auto|cpu|cuda|ilgpu-cpu` option for trainer commands: one factory so every
// command spells, documents and resolves it the same way. auto = CUDA when a device is present, else
// the CPU SIMD path; the choice is printed in one line. Asking for cuda on a machine without CUDA is
// a clear error (exit code 2), never a silent fallback. Tests: tests/NanoMbpo.Tests/Dispatch/ParityCommandTests.cs.
using System.CommandLine;

namespace NanoMbpo.Trainer.Commands;

public static class DeviceOption
{
    public const string Choices = "auto|cpu|cuda|ilgpu-cpu";

    /// <summary>A `--device` option with the given default.</summary>
    public static Option<string> Create(string defaultValue = "auto", string? description = null)
    {
        var o = new Option<string>("--device")
        {
            Description = description ?? $"Where tensors live and ops run: {Choices} (auto = CUDA when present, else the CPU SIMD path).",
            DefaultValueFactory = _ => defaultValue,
        };
        o.AcceptOnlyFromAmong("auto", "cpu", "cuda", "ilgpu-cpu");
        return o;
    }

    /// <summary>Resolves <paramref name="spec"/>, printing the one-line choice to <paramref name="log"/>.
    /// Returns null (after writing the reason to <paramref name="error"/>) when the device is unavailable.</summary>
    public static Device? Resolve(string spec, TextWriter log, TextWriter error)
    {
        try { return Device.Resolve(spec, log); }
        catch (DeviceUnavailableException e)
        {
            error.WriteLine($"error: --device {spec}: {e.Message}");
            error.WriteLine("hint: use --device auto to fall back to the CPU, or --device ilgpu-cpu to run the kernels on ILGPU's CPU accelerator.");
            return null;
        }
    }
}
