// Kill during save: a child process (this test assembly's ChildMain) saves a file of each kind in an endless
// loop through the project's writers; the test kills it at random times and reloads what remains, which must be
// a complete old or new version, never a torn file. Kills that land inside a save leave the writer's temporary
// file behind, which shows the kills really hit saves in progress.
using System.Diagnostics;
using NanoMbpo.IO;
using Xunit;
using Xunit.Abstractions;

namespace NanoMbpo.Tests.Reliability;

public sealed class AtomicWriteKillTests(ITestOutputHelper log)
{
    const int KillsPerKind = 6;

    [Fact]
    public async Task KilledSavesLeaveTheOldOrTheNewFileNeverATornOne()
    {
        string dir = Directory.CreateTempSubdirectory("nanombpo-kill-").FullName;
        var rng = new Random(Environment.TickCount);
        int midSave = 0, kills = 0;
        try
        {
            foreach (string kind in SavedVersions.Kinds)
            {
                string path = Path.Combine(dir, kind + ".out");
                for (int i = 0; i < KillsPerKind; i++)
                {
                    using var p = Process.Start(Child.Info(Child.TestsDll, ["save-loop", kind, path]))!;
                    _ = p.StandardError.ReadToEndAsync();
                    string? first = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                    Assert.True(first is not null && first.StartsWith("saved ", StringComparison.Ordinal), $"{kind}: child did not save ({first})");
                    _ = p.StandardOutput.ReadToEndAsync();
                    await Task.Delay(rng.Next(0, 120));
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit();
                    kills++;
                    int left = AtomicFile.LeftoverTemporaries(dir).Length;
                    if (left > 0) midSave++;
                    foreach (var t in AtomicFile.LeftoverTemporaries(dir)) File.Delete(t);
                    var ex = Record.Exception(() => SavedVersions.Check(kind, path));
                    Assert.True(ex is null, $"{kind}: kill {i} left a torn file: {ex}");
                }
            }
            log.WriteLine($"{kills} kills, {midSave} inside a save (temporary file left behind)");
            Assert.True(midSave > 0, $"none of {kills} kills landed inside a save, so the test proved nothing");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void WriterReplacesAtomicallyAndLeavesNoTemporary()
    {
        string dir = Directory.CreateTempSubdirectory("nanombpo-atomic-").FullName;
        try
        {
            string path = Path.Combine(dir, "sub", "a.txt");
            AtomicFile.WriteAllText(path, "one");
            AtomicFile.WriteAllText(path, "two");
            Assert.Equal("two", File.ReadAllText(path));
            Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, _ => throw new InvalidOperationException("fails mid-save")));
            Assert.Equal("two", File.ReadAllText(path));
            Assert.Empty(AtomicFile.LeftoverTemporaries(Path.Combine(dir, "sub")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
