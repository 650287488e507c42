// `nanombpo train` end to end on a tiny configuration: progress lines, the results table, the
// checkpoint (tensor names and shapes), summary (policies, and a curve equal to the printed one) and
// PNG plots (signature and size), and a clear error for a bad argument.
using System.Text.Json;
using NanoMbpo.Agent;
using NanoMbpo.Dialog;
using NanoMbpo.IO;
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
            // The checkpoint holds the policy MLP FeatureDim-Hidden-Hidden-actions (BcOptions defaults) after epoch 2.
            var d = new BcOptions();
            using (var st = SafeTensorsFile.Read(Path.Combine(dir, "policy.safetensors")))
            {
                Assert.Equal("2", st.Metadata["epoch"]);
                int[][] shapes = [[d.Hidden, d.FeatureDim], [d.Hidden], [d.Hidden, d.Hidden], [d.Hidden], [KinPizzaEnv.ActionCount, d.Hidden], [KinPizzaEnv.ActionCount]];
                string[] names = ["policy.0.weight", "policy.0.bias", "policy.2.weight", "policy.2.bias", "policy.4.weight", "policy.4.bias"];
                for (int i = 0; i < names.Length; i++) Assert.Equal(shapes[i], st[names[i]].ShapeArray());
            }
            // Both plots are 800x500 PNGs (signature, then the IHDR chunk's big-endian width and height).
            foreach (var png in new[] { "learning_curve.png", "success.png" })
            {
                var b = File.ReadAllBytes(Path.Combine(dir, png));
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, b[..8]);
                Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(b, 12, 4));
                Assert.Equal(800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(16)));
                Assert.Equal(500, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(20)));
            }
            // The summary's curve is the one the progress lines printed.
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
            Assert.Equal(["bc-mlp", "rule", "random"], doc.RootElement.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("policy").GetString()!).ToArray());
            var curve = doc.RootElement.GetProperty("curve").EnumerateArray().ToList();
            Assert.Equal(2, curve.Count);
            foreach (var e in curve)
            {
                int epoch = e.GetProperty("Epoch").GetInt32();
                double loss = e.GetProperty("Loss").GetDouble();
                Assert.Contains($"epoch {epoch,3}/2  loss {loss:F4}", stdout);
            }
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
