// A damaged run folder is refused on resume with InvalidDataException (or the safetensors format error)
// naming the file and the field, never EndOfStream/IndexOutOfRange/OutOfMemory: state.bin cut short, with a
// huge count, with bytes after its end or a NaN in the environment state; a replay buffer cut short or with a
// bad cursor; metrics.csv with a row that is not a step or another header; an Adam state file cut short.
// Replay buffers and state.bin are written through AtomicFile (no temporaries left behind); a save cut between
// deleting the old checkpoint folder and renaming the new one resumes from the complete temporary folder.
using System.Text;
using NanoMbpo.IO;
using NanoMbpo.Rl;
using NanoMbpo.Rl.Envs;
using Xunit;

namespace NanoMbpo.Rl.Tests;

public class RunCheckpointTests
{
    static Sac Tiny() => new(new Pendulum(), 3, new SacOptions { Hidden = [8], BatchSize = 8, LearningStarts = 20, BufferSize = 200 });

    static RunOptions Opts(string dir, long steps) => new() { Steps = steps, OutDir = dir, LogEvery = 10, EvalEvery = 0, CheckpointEvery = 50, ProgressSeconds = 0 };

    /// <summary>state.bin of the tiny SAC: algo (1+3), env (1+8), seed 8, step 8, env RNG 41, then the env state count.</summary>
    const int EnvStateCountAt = 4 + 9 + 8 + 8 + 41;

    public static TheoryData<string, string, string> Damages => new()
    {
        { "state-cut", "state.bin", "field 'env_rng' is cut short" },
        { "state-count", "state.bin", "field 'env_state': count 2147483647" },
        { "state-nan", "state.bin", "field 'env_state': NaN is not finite" },
        { "state-trailing", "state.bin", "field 'end': 1 bytes after the last field" },
        { "replay-cut", "replay.buffer", "field 'rows'" },
        { "replay-cursor", "replay.buffer", "field 'cursor'" },
        { "metrics-row", "metrics.csv", "line 3, field 'step'" },
        { "metrics-header", "metrics.csv", "field 'header'" },
        { "adam-cut", "critic.adam.safetensors", "critic.adam.safetensors" },
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public void DamagedRunFolderIsRefusedNamingFileAndField(string damage, string file, string expected)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"rl_damage_{damage}_{Environment.ProcessId}");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        RunLoop.Run(Tiny(), Opts(dir, 100), TextWriter.Null);
        string ck = Path.Combine(dir, RunLoop.CheckpointDir);
        Assert.Empty(AtomicFile.LeftoverTemporaries(ck));
        string path = file == "metrics.csv" ? Path.Combine(dir, file) : Path.Combine(ck, file);
        var bytes = File.ReadAllBytes(path);
        byte[] damaged = damage switch
        {
            "state-cut" => bytes[..40],
            "state-count" => Patch(bytes, EnvStateCountAt, BitConverter.GetBytes(int.MaxValue)),
            "state-nan" => Patch(bytes, EnvStateCountAt + 4, BitConverter.GetBytes(double.NaN)),
            "state-trailing" => [.. bytes, 0],
            "replay-cut" => bytes[..^7],
            "replay-cursor" => Patch(bytes, 16, BitConverter.GetBytes(5)),   // 100 rows of 200: the cursor must be 100
            "metrics-row" => Encoding.UTF8.GetBytes(string.Join("\n", File.ReadAllLines(path).Take(2).Append("garbage"))),
            "metrics-header" => Encoding.UTF8.GetBytes("step,episodes" + File.ReadAllText(path)[File.ReadAllText(path).IndexOf('\n')..]),
            "adam-cut" => bytes[..(bytes.Length / 2)],
            _ => throw new ArgumentException(damage),
        };
        File.WriteAllBytes(path, damaged);
        var e = Record.Exception(() => RunLoop.Run(Tiny(), Opts(dir, 150), TextWriter.Null, resume: true));
        Assert.True(e is InvalidDataException or SafeTensorsFormatException, $"{e?.GetType().Name}: {e?.Message}");
        Assert.Contains(file, e!.Message);
        Assert.Contains(expected, e.Message);
        Directory.Delete(dir, true);
    }

    static byte[] Patch(byte[] bytes, int at, byte[] with)
    {
        var copy = (byte[])bytes.Clone();
        with.CopyTo(copy, at);
        return copy;
    }

    [Fact]
    public void ASaveCutBeforeItsRenameResumesFromTheCompleteTemporaryFolder()
    {
        string root = Path.Combine(Path.GetTempPath(), $"rl_cutsave_{Environment.ProcessId}"), dir = Path.Combine(root, "cut"), full = Path.Combine(root, "full");
        if (Directory.Exists(root)) Directory.Delete(root, true);
        RunLoop.Run(Tiny(), Opts(dir, 100), TextWriter.Null);
        string ck = Path.Combine(dir, RunLoop.CheckpointDir), state = Path.Combine(ck + ".tmp", RunCheckpoint.StateName);
        Directory.Move(ck, ck + ".tmp");   // the folder between Save's delete of the old checkpoint and its rename
        File.Move(state, state + ".away");  // without state.bin (written last) the temporary folder is incomplete
        Assert.Throws<DirectoryNotFoundException>(() => RunLoop.Run(Tiny(), Opts(dir, 150), TextWriter.Null, resume: true));
        File.Move(state + ".away", state);
        RunLoop.Run(Tiny(), Opts(dir, 150), TextWriter.Null, resume: true);
        RunLoop.Run(Tiny(), Opts(full, 150), TextWriter.Null);
        Assert.Equal(File.ReadAllText(Path.Combine(full, RunLoop.CsvName)), File.ReadAllText(Path.Combine(dir, RunLoop.CsvName)));
        Assert.True(Directory.Exists(ck));
        Assert.False(Directory.Exists(ck + ".tmp"));
        Directory.Delete(root, true);
    }

    [Fact]
    public void ReplayBufferRoundTripsAndRefusesAnotherShape()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rl_replay_{Environment.ProcessId}.buffer");
        var a = new ReplayBuffer(5, 2, 1);
        for (int i = 0; i < 7; i++) a.Add([i, -i], [i], i, [i + 1, -i - 1], i % 2 == 0);
        a.Save(path);
        var b = new ReplayBuffer(5, 2, 1);
        b.Load(path);
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < 5; i++) Assert.Equal(a.ObsAt(i).ToArray(), b.ObsAt(i).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => new ReplayBuffer(6, 2, 1).Load(path));
        Assert.Contains("field 'shape'", e.Message);
        File.Delete(path);
    }
}
