// `nanombpo train` end to end on tiny configurations (the seller agent with hashed embeddings; `--method bc`),
// `eval --policy RUN_DIR` and `compare`: progress lines, the results table, the
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
            var (code, stdout, err) = Cli.Run("train", "--method", "bc", "--dialogs", "30", "--epochs", "2", "--eval-episodes", "10", "--threads", "1", "--out", dir);
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
    public void MbpoTrainWritesTheRunDirectoryAndEvalScoresIt()
    {
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-mbpo-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, err) = Cli.Run("train", "--embedder", "hashed", "--reward", "task", "--dialogs", "20", "--eval-episodes", "5", "--threads", "1",
                "--set", "RandomDialogs=5", "EvalEvery=10", "EvalEpisodes=3", "ModelTrainEvery=50", "Sac.BatchSize=16", "--out", dir);
            Assert.True(code == 0, err + stdout);
            Assert.Contains("dialogs 10/20", stdout);
            Assert.Contains("ETA", stdout);
            Assert.Contains("profile: ", stdout);
            Assert.Contains("after 20 real dialogs", stdout.Trim().Split('\n')[^1]);
            foreach (var f in new[] { "config.json", "metrics.csv", "success.png", "return.png", "summary.json", "checkpoint/encoder.safetensors", "checkpoint/actor.safetensors", "checkpoint/utterance_normaliser.safetensors" })
                Assert.True(File.Exists(Path.Combine(dir, f)), f);
            var csv = File.ReadAllLines(Path.Combine(dir, "metrics.csv"));
            Assert.Equal(3, csv.Length);   // header and the evaluations at 10 and 20 dialogs
            Assert.StartsWith("10,", csv[1]);
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
            Assert.Equal(["mbpo-sac", "rule", "random"], doc.RootElement.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("policy").GetString()!).ToArray());
            Assert.Equal(20, doc.RootElement.GetProperty("policies")[0].GetProperty("real_dialogs").GetInt32());
            // eval --policy RUN_DIR reloads the checkpoint and scores it like the reference policies
            var (c2, o2, e2) = Cli.Run("eval", "--policy", dir, "--episodes", "5", "--seed", "3", "--json");
            Assert.True(c2 == 0, e2);
            using var ej = JsonDocument.Parse(o2.Trim().Split('\n')[^1]);
            Assert.Equal("mbpo-sac", ej.RootElement.GetProperty("policy").GetString());
            Assert.Equal(5, ej.RootElement.GetProperty("episodes").GetInt32());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    /// <summary>`train --device ilgpu-cpu`: SAC's networks on ILGPU's CPU accelerator (tiny, since it emulates every GPU
    /// thread), the device named in the log and config.json, a checkpoint `eval` reloads on the CPU; the baselines
    /// that have no device path are refused naming --device.</summary>
    [Fact]
    public void SacTrainsOnIlgpuCpuAndEvalReloadsItOnTheCpu()
    {
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-sac-device-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, err) = Cli.Run("train", "--method", "sac", "--device", "ilgpu-cpu", "--embedder", "hashed", "--reward", "task", "--dialogs", "12",
                "--eval-episodes", "2", "--threads", "1", "--set", "RandomDialogs=10", "EvalEvery=6", "EvalEpisodes=2", "UpdatesPerStep=1", "Sac.BatchSize=8",
                "Sac.Hidden=16,16", "Sac.ActionTextDim=4", "Sac.Latent.MaxSeqLen=4", "Sac.Latent.DModel=16", "Sac.Latent.Heads=2", "Sac.Latent.FeedForward=32",
                "Sac.Latent.LatentDim=8", "--out", dir);
            Assert.True(code == 0, err + stdout);
            Assert.Contains("device: the latent encoder, actor, critics and dynamics head on ilgpu-cpu", stdout);
            Assert.Contains("after 12 real dialogs", stdout.Trim().Split('\n')[^1]);
            using (var cfg = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))))
                Assert.Equal("ilgpu-cpu", cfg.RootElement.GetProperty("device").GetString());
            var (c2, o2, e2) = Cli.Run("eval", "--policy", dir, "--episodes", "2", "--seed", "3", "--json");
            Assert.True(c2 == 0, e2);
            Assert.Contains("sac-sac", o2);
            var (c3, _, e3) = Cli.Run("train", "--method", "dqn", "--device", "ilgpu-cpu", "--embedder", "hashed", "--out", dir);
            Assert.Equal(2, c3);
            Assert.Contains("--device ilgpu-cpu: only mbpo, sac and dyna run on a device", e3);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("dqn", "q.safetensors")]
    [InlineData("reinforce", "policy.safetensors")]
    [InlineData("mpc", "world_model.safetensors")]
    public void BaselineTrainWritesARunThatEvalReloads(string method, string network)
    {
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-" + method + "-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, err) = Cli.Run("train", "--method", method, "--embedder", "hashed", "--reward", "task", "--dialogs", "20", "--eval-episodes", "5", "--threads", "1",
                "--set", "RandomDialogs=5", "EvalEvery=10", "EvalEpisodes=3", "ModelTrainEvery=50", "Sac.BatchSize=16", "Mpc.Candidates=8", "Mpc.CemElites=2", "Mpc.Horizon=2", "--out", dir);
            Assert.True(code == 0, err + stdout);
            Assert.Contains("dialogs 10/20", stdout);
            Assert.Contains($"{method} success", stdout.Trim().Split('\n')[^1]);
            foreach (var f in new[] { "config.json", "metrics.csv", "summary.json", "checkpoint/" + network, "checkpoint/utterance_normaliser.safetensors" })
                Assert.True(File.Exists(Path.Combine(dir, f)), f);
            Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Length);
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
            var final = doc.RootElement.GetProperty("policies")[0];
            Assert.Equal(method, final.GetProperty("policy").GetString());
            // eval --policy RUN_DIR reloads the checkpoint; on the final evaluation's seed it scores what train printed
            var (c2, o2, e2) = Cli.Run("eval", "--policy", dir, "--episodes", "5", "--seed", (1UL ^ 0xF17A1UL).ToString(), "--json");
            Assert.True(c2 == 0, e2);
            using var ej = JsonDocument.Parse(o2.Trim().Split('\n')[^1]);
            Assert.Equal(method, ej.RootElement.GetProperty("policy").GetString());
            Assert.Equal(final.GetProperty("avg_return").GetDouble(), ej.RootElement.GetProperty("avg_return").GetDouble(), 9);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void CompareWritesOneTableAndOnePlot()
    {
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-compare-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, err) = Cli.Run("compare", "--methods", "sac,dqn,reinforce,mpc,mpc-rs,bc", "--seeds", "1", "--dialogs", "10", "--embedder", "hashed", "--reward", "task",
                "--eval-episodes", "3", "--threads", "1", "--set", "RandomDialogs=5", "EvalEvery=5", "EvalEpisodes=2", "Sac.BatchSize=16", "Mpc.Candidates=8", "Mpc.CemElites=2", "Mpc.Horizon=2", "--out", dir);
            Assert.True(code == 0, err + stdout);
            string md = File.ReadAllText(Path.Combine(dir, "compare.md"));
            Assert.Contains("| sac |", md);
            Assert.Contains("| bc |", md);
            foreach (var m in new[] { "dqn", "reinforce", "mpc", "mpc-rs" }) Assert.Contains($"| {m} |", md);
            Assert.Contains("| rule-based expert | 100.0 %", md);
            Assert.True(File.Exists(Path.Combine(dir, "compare_success.png")));
            Assert.True(File.Exists(Path.Combine(dir, "sac-seed1", "metrics.csv")));
            var (c2, _, e2) = Cli.Run("compare", "--methods", "sac,nope", "--out", dir);
            Assert.Equal(2, c2);
            Assert.Contains("nope", e2);
            var (c3, _, e3) = Cli.Run("train", "--set", "Sac.NoSuchOption=1", "--embedder", "hashed", "--out", dir);
            Assert.Equal(2, c3);
            Assert.Contains("NoSuchOption", e3);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void CompareRunsAggregatesFinishedRunsOfDifferentBudgets()
    {
        string dir = Path.Combine(Path.GetTempPath(), "nanombpo-compare-runs-" + Guid.NewGuid().ToString("N"));
        try
        {
            // Two finished runs as train writes them: mbpo reaches 80 % at 100 of 200 dialogs, sac at 400 of 600.
            static string Summary(string job, int dialogs, double[] success) => System.Text.Json.JsonSerializer.Serialize(new
            {
                job, seed = 1, dialogs, wall_seconds = 12.5,
                curve = success.Select((v, i) => new { Dialogs = 100 * (i + 1), Turns = 700L * (i + 1), Success = v, Return = 10 * v, AvgTurns = 7.0, Seconds = 1.0 * i }),
                policies = new[] { new { policy = job + "-sac", episodes = 20, success_rate = success[^1], success_ci_low = 0.5, success_ci_high = 1.0, avg_turns = 6.0, avg_return = 20.0, slot_f1 = 1.0, hangup_rate = 0.0 } },
            });
            Directory.CreateDirectory(Path.Combine(dir, "m")); Directory.CreateDirectory(Path.Combine(dir, "s"));
            File.WriteAllText(Path.Combine(dir, "m", "summary.json"), Summary("mbpo", 200, [0.85, 0.9]));
            File.WriteAllText(Path.Combine(dir, "s", "summary.json"), Summary("sac", 600, [0.1, 0.3, 0.5, 0.8, 0.7, 0.9]));
            string Compare(string outName)
            {
                var (code, stdout, err) = Cli.Run("compare", "--runs", Path.Combine(dir, "m"), Path.Combine(dir, "s"), "--eval-episodes", "5", "--out", Path.Combine(dir, outName));
                Assert.True(code == 0, err + stdout);
                return File.ReadAllText(Path.Combine(dir, outName, "compare.md"));
            }
            string md = Compare("out");
            Assert.Contains("budgets of mbpo 200, sac 600 real dialogs", md);
            Assert.Contains("| mbpo | 90.0 %", md);
            Assert.Contains("| 1 | 100 | 400 | 0.25 |", md);
            Assert.Contains("every seed ≤ 1/3", md);
            Assert.True(File.Exists(Path.Combine(dir, "out", "compare_success.png")));
            // SAC never at 80 % within its budget: only a bound on the ratio, and no mean.
            File.WriteAllText(Path.Combine(dir, "s", "summary.json"), Summary("sac", 600, [0.1, 0.3, 0.5, 0.6, 0.7, 0.7]));
            string md1 = Compare("out1");
            Assert.Contains("| 1 | 100 | >600 | < 0.17 |", md1);
            Assert.DoesNotContain("Mean ratio", md1);
            // A directory that is not a finished run is named.
            var (c2, _, e2) = Cli.Run("compare", "--runs", Path.Combine(dir, "out"), "--out", Path.Combine(dir, "out2"));
            Assert.Equal(2, c2);
            Assert.Contains("summary.json", e2);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadArgumentIsNamed()
    {
        var (code, stdout, err) = Cli.Run("train", "--method", "bc", "--epochs", "0", "--out", Path.GetTempPath());
        Assert.NotEqual(0, code);
        Assert.Contains("--epochs", stdout + err);
    }
}
