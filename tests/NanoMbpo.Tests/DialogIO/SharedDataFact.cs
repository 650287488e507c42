// Finds the shared third-party data by walking up from the test assembly directory to a folder that holds
// shared/data (CI: <repo>/../shared/data), and a Fact that skips with the reason when the file is not there.
using Xunit;

namespace NanoMbpo.Tests.DialogIO;

internal static class DialogIOSharedData
{
    /// <summary>Full path of shared/data/<paramref name="relative"/>, or null when no ancestor folder has it.</summary>
    public static string? Find(string relative)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", relative);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}

/// <summary>A fact that needs shared/data/<c>relative</c>; skipped with a reason when it is absent.</summary>
public sealed class DialogIOSharedDataFactAttribute : FactAttribute
{
    public DialogIOSharedDataFactAttribute(string relative)
    {
        if (DialogIOSharedData.Find(relative) is null)
            Skip = $"shared data file 'shared/data/{relative}' not found in any folder above the test assembly";
    }
}
