// Locates the shared third-party data (<repo>/../shared/data) by walking up from the test assembly folder,
// and a Fact attribute that skips with a reason when the file is absent (CI without the data).
using Xunit;

namespace NanoMbpo.Tests.Dialog;

public static class SharedData
{
    /// <summary>Full path of shared/data/<relative>, or null when no ancestor folder holds it.</summary>
    public static string? Find(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", relative);
            if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
        }
        return null;
    }
}

/// <summary>A fact that needs shared/data/<relative>; skipped with a reason when the data is missing.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute(params string[] relatives)
    {
        foreach (var relative in relatives)
            if (SharedData.Find(relative) == null)
            {
                Skip = $"needs shared/data/{relative} (not found walking up from the test assembly folder)";
                return;
            }
    }
}
