// `nanombpo train` end to end on a tiny configuration: progress lines, the results table, the
// checkpoint, summary and PNG plots, and a clear error for a bad argument.
using System.Text.Json;
using Xunit;

namespace NanoMbpo.Tests.Agent;

[Collection("Console")]
public class TrainCommandTests
{
    [Fact]
    public void TrainWritesCheckpointSummaryAndPlots()
    {
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-train-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, err) = Cli.Run("train", "--dialogs", "30", "--epochs", "2", "--eval-episodes", "10", "--threads", "1", "--out", dir);
            Assert.True(code == 0, err);
            Assert.Contains("epoch   2/2", stdout);
            Assert.Contains("ETA", stdout);
            Assert.Contains("behaviour-cloned policy success", stdout.Trim().Split('\n')[^1]);
            foreach (var f in new[] { "policy.safetensors", "summary.json", "learning_curve.png", "success.png" })
                Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 100, f);
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
            Assert.Equal(3, doc.RootElement.GetProperty("policies").GetArrayLength());
            Assert.Equal(2, doc.RootElement.GetProperty("curve").GetArrayLength());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadArgumentIsNamed()
    {
        var (code, stdout, err) = Cli.Run("train", "--epochs", "0", "--out", Path.GetTempPath());
        Assert.NotEqual(0, code);
        Assert.Contains("--epochs", stdout + err);
    }
}
