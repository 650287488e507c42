// Starts `dotnet <dll> args...` as a child process (the trainer, or this test assembly's own Main for the
// save loops of AtomicWriteKillTests) and collects its output. Used by the CLI and kill-during-save tests.
using System.Diagnostics;

namespace NanoMbpo.Tests.Reliability;

public static class Child
{
    /// <summary>The dotnet host running the tests (DOTNET_HOST_PATH under `dotnet test`), else "dotnet" on PATH.</summary>
    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";

    public static string TrainerDll => Path.Combine(AppContext.BaseDirectory, "nanombpo.dll");
    public static string TestsDll => typeof(Child).Assembly.Location;

    public static ProcessStartInfo Info(string dll, IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(DotnetHost) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_TieredCompilation"] = "1";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Runs to completion (killed after <paramref name="timeoutMs"/>); returns exit code, stdout, stderr.</summary>
    public static (int Code, string Out, string Err) Run(string dll, string[] args, int timeoutMs = 60_000)
    {
        using var p = Process.Start(Info(dll, args))!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs)) { p.Kill(entireProcessTree: true); throw new TimeoutException($"{string.Join(' ', args)} ran past {timeoutMs} ms"); }
        p.WaitForExit();
        return (p.ExitCode, so.Result, se.Result);
    }
}
