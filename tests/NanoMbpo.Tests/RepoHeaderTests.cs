// File headers point at the tests that cover them: every "tests/NanoMbpo.Tests/…" path named in a
// source, kernel, benchmark or test file (or a README) must exist, so a renamed or never-written test
// file cannot hide behind a header. A header naming several files ("… FooTests.cs and BarTests.cs")
// has its first one checked here.
using System.Text.RegularExpressions;
using Xunit;

namespace NanoMbpo.Tests;

public class RepoHeaderTests
{
    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NanoMbpo.sln"))) return dir.FullName;
        throw new InvalidOperationException("NanoMbpo.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void EveryNamedTestFileExists()
    {
        string root = RepoRoot();
        var refs = new Regex(@"tests/NanoMbpo\.Tests/[A-Za-z0-9_/]+(\.cs|/\*|/)?");
        var missing = new List<string>();
        int seen = 0;
        foreach (var top in new[] { "src", "kernels", "bench", "tests" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, top), "*.*", SearchOption.AllDirectories)
                         .Where(f => (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".md", StringComparison.Ordinal))
                                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                     && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
                foreach (Match m in refs.Matches(File.ReadAllText(file)))
                {
                    seen++;
                    string rel = m.Value.TrimEnd('*').TrimEnd('/');
                    string path = Path.Combine(root, rel.Replace('/', Path.DirectorySeparatorChar));
                    if (!File.Exists(path) && !Directory.Exists(path)) missing.Add($"{Path.GetRelativePath(root, file)} names {m.Value}");
                }
        Assert.True(seen > 50, $"only {seen} references found: is the repository root right ({root})?");
        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }
}
