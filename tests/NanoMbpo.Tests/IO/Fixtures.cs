// Locates the committed PyTorch reference fixtures (tests/fixtures/*.safetensors, made by
// tests/fixtures/make_fixtures.py) by walking up from the test assembly to the repository root.
// Used by FixtureFileTests and by the op/module-vs-PyTorch tests.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
using NanoMbpo.IO;

namespace NanoMbpo.Tests.IO;

public static class Fixtures
{
    private static readonly Lazy<string> Dir = new(Locate);

    /// <summary>The tests/fixtures folder of this checkout.</summary>
    public static string Directory => Dir.Value;

    /// <summary>Reads tests/fixtures/{name}.safetensors (name without extension).</summary>
    public static SafeTensorsFile Load(string name) => SafeTensorsFile.Read(Path.Combine(Directory, name + ".safetensors"));

    /// <summary>Fixture names (file stems), sorted.</summary>
    public static string[] Names() =>
        System.IO.Directory.GetFiles(Directory, "*.safetensors").Select(p => Path.GetFileNameWithoutExtension(p)!).Order(StringComparer.Ordinal).ToArray();

    private static string Locate()
    {
        // The fixtures are committed, so not finding them is a broken checkout: fail, do not skip.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (File.Exists(Path.Combine(candidate, "README.md")) && File.Exists(Path.Combine(candidate, "make_fixtures.py")))
                return candidate;
        }
        throw new DirectoryNotFoundException(
            $"tests/fixtures (with README.md and make_fixtures.py) not found in any parent of '{AppContext.BaseDirectory}'");
    }
}
