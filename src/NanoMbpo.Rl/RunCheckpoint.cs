// RunCheckpoint: the files of an RL run folder that resume reads back, and their validation. A checkpoint
// folder holds every network and optimizer (safetensors, NN.Checkpoint / OptimizerState), the replay
// buffers (ReplayBuffer.Save) and state.bin: algo, env, seed, the agent's state (RNG streams, env state,
// counters; Agent.WriteState), episodes, recent returns and the latest metrics. Every file is written with
// AtomicFile into a temporary folder that then replaces the old one. Loading validates before it allocates
// (a count must fit in the bytes left) and refuses a damaged file with InvalidDataException naming the file
// and the field (StateReader.Field), never EndOfStream/IndexOutOfRange/OutOfMemory. ReadMetricRows reads a
// run's metrics.csv back on resume (same header, well-formed rows). Tests:
// tests/NanoMbpo.Rl.Tests/ResumeTests.cs, tests/NanoMbpo.Rl.Tests/RunCheckpointTests.cs and the fuzz targets
// rl-state, rl-replay and rl-metrics (tests/NanoMbpo.Tests/Reliability/FuzzTests.cs).
using System.Globalization;
using System.Text;
using NanoMbpo.IO;
using NanoMbpo.NN;
using NanoMbpo.Optim;

namespace NanoMbpo.Rl;

/// <summary>A BinaryReader over a whole state file in memory that knows which field it is reading.</summary>
public sealed class StateReader(Stream input) : BinaryReader(input, new UTF8Encoding(false, false), leaveOpen: false)
{
    /// <summary>The field being read (set by <see cref="At"/>), named in errors.</summary>
    public string Field { get; private set; } = "header";

    public long Remaining => BaseStream.Length - BaseStream.Position;

    /// <summary>Marks the start of field <paramref name="field"/> when <paramref name="r"/> is a StateReader.</summary>
    public static void At(BinaryReader r, string field) { if (r is StateReader s) s.Field = field; }

    /// <summary>Reads an int32 count of items of at least <paramref name="itemBytes"/> bytes each; refuses a
    /// negative count, one the bytes left cannot hold, or one different from <paramref name="exact"/>.</summary>
    public static int Count(BinaryReader r, string field, long itemBytes, int? exact = null)
    {
        At(r, field);
        int n = r.ReadInt32();
        long left = r.BaseStream.CanSeek ? r.BaseStream.Length - r.BaseStream.Position : long.MaxValue;
        if (n < 0 || exact is int e && n != e || itemBytes > 0 && n > left / itemBytes)
            throw new InvalidDataException($"field '{field}': count {n} is {(exact is int x && n != x ? $"not the expected {x}" : $"negative or beyond the {left} bytes left")}.");
        return n;
    }

    /// <summary>A finite double (NaN/Inf in saved state is damage).</summary>
    public static double Finite(BinaryReader r, string field)
    {
        At(r, field);
        double v = r.ReadDouble();
        if (!double.IsFinite(v)) throw new InvalidDataException($"field '{field}': {v} is not finite.");
        return v;
    }
}

public static class RunCheckpoint
{
    public const string StateName = "state.bin";

    public static void Save(Agent agent, string dir, long episodes, IReadOnlyList<double> recent)
    {
        string tmp = dir + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        foreach (var (name, store, opt) in agent.Networks())
        {
            Checkpoint.Save(store, Path.Combine(tmp, name + ".safetensors"));
            if (opt is not null) OptimizerState.Save(opt, Path.Combine(tmp, name + ".adam.safetensors"));
        }
        foreach (var (name, buf) in agent.Buffers()) buf.Save(Path.Combine(tmp, name + ".buffer"));
        AtomicFile.Write(Path.Combine(tmp, StateName), s =>
        {
            using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
            w.Write(agent.Algo); w.Write(agent.EnvKey); w.Write(agent.Seed);
            agent.WriteState(w);
            w.Write(episodes); w.Write(recent.Count); foreach (var v in recent) w.Write(v);
            w.Write(agent.Metrics.Count); foreach (var (k, v) in agent.Metrics) { w.Write(k); w.Write(v); }
        });
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.Move(tmp, dir);
    }

    /// <summary>Loads the checkpoint folder <paramref name="dir"/> into <paramref name="agent"/>.</summary>
    public static (long Episodes, List<double> Recent) Load(Agent agent, string dir)
    {
        if (!Directory.Exists(dir))
        {
            // Save writes every file of the temporary folder (state.bin last), deletes the old folder, then renames:
            // a run cut between the two leaves only the temporary folder, complete once it holds state.bin.
            if (File.Exists(Path.Combine(dir + ".tmp", StateName))) dir += ".tmp";
            else throw new DirectoryNotFoundException($"resume: no checkpoint folder '{dir}'.");
        }
        return ReadState(agent, Path.Combine(dir, StateName), () =>
        {
            foreach (var (name, store, opt) in agent.Networks())
            {
                Checkpoint.Load(store, Path.Combine(dir, name + ".safetensors"));
                if (opt is not null) OptimizerState.Load(opt, Path.Combine(dir, name + ".adam.safetensors"));
            }
            foreach (var (name, buf) in agent.Buffers()) buf.Load(Path.Combine(dir, name + ".buffer"));
        });
    }

    /// <summary>Reads state.bin at <paramref name="path"/> into <paramref name="agent"/>; between the header
    /// (algo, env, seed: checked first, so another run's checkpoint is refused before anything loads) and the
    /// agent's state, <paramref name="loadFiles"/> loads the rest of the folder.</summary>
    public static (long Episodes, List<double> Recent) ReadState(Agent agent, string path, Action? loadFiles = null)
    {
        byte[] bytes = File.ReadAllBytes(path);   // the whole file: every count is checked against what is left
        using var r = new StateReader(new MemoryStream(bytes, writable: false));
        bool parsing = true;   // errors of the other files (loadFiles) name their own file and pass through
        try
        {
            StateReader.At(r, "algo"); string algo = r.ReadString();
            StateReader.At(r, "env"); string env = r.ReadString();
            StateReader.At(r, "seed"); ulong seed = r.ReadUInt64();
            if (algo != agent.Algo || env != agent.EnvKey || seed != agent.Seed)
                throw new InvalidDataException($"resume: the checkpoint '{path}' is {algo} on {env} seed {seed}, not {agent.Algo} on {agent.EnvKey} seed {agent.Seed}.");
            parsing = false;
            loadFiles?.Invoke();
            parsing = true;
            agent.ReadState(r);
            StateReader.At(r, "episodes");
            long episodes = r.ReadInt64();
            if (episodes < 0 || episodes > agent.Step) throw new InvalidDataException($"field 'episodes': {episodes} is outside 0..{agent.Step} (the step).");
            int n = StateReader.Count(r, "recent_returns", 8);
            var recent = new List<double>(n);
            for (int i = 0; i < n; i++) recent.Add(StateReader.Finite(r, "recent_returns"));
            var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
            for (int i = StateReader.Count(r, "metrics", 9); i > 0; i--)
            {
                StateReader.At(r, "metrics"); string k = r.ReadString();
                metrics[k] = r.ReadDouble();   // a metric may be NaN or Inf (it is only reported)
            }
            if (r.Remaining != 0) throw new InvalidDataException($"field 'end': {r.Remaining} bytes after the last field.");
            agent.Metrics.Clear();
            foreach (var (k, v) in metrics) agent.Metrics[k] = v;
            return (episodes, recent);
        }
        catch (InvalidDataException e) when (parsing && !e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"run checkpoint '{path}': {e.Message}", e);
        }
        catch (Exception e) when (parsing && e is IOException or FormatException)   // EndOfStream; a bad string length
        {
            throw new InvalidDataException($"run checkpoint '{path}': field '{r.Field}' is {(e is EndOfStreamException ? "cut short (end of file)" : "damaged (" + e.Message + ")")}.", e);
        }
    }

    /// <summary>The rows of the metrics CSV <paramref name="path"/> up to step <paramref name="step"/> (none when
    /// the file is missing). The header must be <paramref name="header"/> (a run of another version or algorithm
    /// is refused) and every row a step number and the header's column count.</summary>
    public static List<string> ReadMetricRows(string path, string header, long step)
    {
        var rows = new List<string>();
        if (!File.Exists(path)) return rows;
        int columns = header.Split(',').Length, line = 0;
        foreach (string l in File.ReadLines(path))
        {
            line++;
            if (line == 1)
            {
                if (l != header) throw new InvalidDataException($"metrics '{path}': field 'header' is '{Clip(l)}', expected '{header}' (another algorithm or version).");
                continue;
            }
            int comma = l.IndexOf(',');
            if (comma < 0 || !long.TryParse(l.AsSpan(0, comma), NumberStyles.None, CultureInfo.InvariantCulture, out long s))
                throw new InvalidDataException($"metrics '{path}': line {line}, field 'step' is not a step number: '{Clip(l)}'.");
            if (l.AsSpan().Count(',') + 1 != columns)
                throw new InvalidDataException($"metrics '{path}': line {line} has {l.AsSpan().Count(',') + 1} fields, the header {columns}.");
            if (s <= step) rows.Add(l);
        }
        if (line == 0) throw new InvalidDataException($"metrics '{path}': field 'header' is missing (empty file).");
        return rows;
    }

    static string Clip(string s) => s.Length <= 80 ? s : s[..80] + "...";
}
