// Saves and loads a seller agent's networks (SAC's, or any method's list of networks): one safetensors file per network (encoder, its EMA target,
// actor, critics, critic targets, dynamics head, temperature) in a checkpoint directory, each written
// atomically, so a crash mid-save leaves the previous checkpoint whole. Loading validates every key and
// shape (NN.Checkpoint) before any parameter changes. Tested by tests/NanoMbpo.Agent.Tests/SellerTests.cs.
using NanoMbpo.NN;
using NanoMbpo.Optim;

namespace NanoMbpo.Agent;

public static class SellerCheckpoint
{
    public static void Save(SellerMbpo agent, string dir) => Save(agent.Learner, dir, agent.DialogsDone);

    public static void Save(LatentSac learner, string dir, int dialogs) => Save(learner.Networks(), learner.Table, dir, dialogs);

    /// <summary>Any method's networks (one file each, <paramref name="extra"/> added to every file's metadata) and the utterance normaliser.</summary>
    public static void Save(IEnumerable<(string Name, ParameterStore Store, Adam? Optimizer)> networks, UtteranceTable table, string dir, int dialogs,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        Directory.CreateDirectory(dir);
        var meta = new Dictionary<string, string> { ["dialogs"] = dialogs.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) meta[k] = v;
        foreach (var (name, store, _) in networks) Checkpoint.Save(store, Path.Combine(dir, name + ".safetensors"), meta);
        if (table.Mean is { } mean)
        {
            var ns = new ParameterStore();
            mean.CopyTo(ns.Create("mean", mean.Length).F32);
            table.StdDev!.CopyTo(ns.Create("std", mean.Length).F32);
            Checkpoint.Save(ns, Path.Combine(dir, NormaliserFile), meta);
        }
    }

    public const string NormaliserFile = "utterance_normaliser.safetensors";

    /// <summary>Loads what a policy needs to act (encoder and actor); <paramref name="all"/> loads every network.</summary>
    public static void Load(LatentSac learner, string dir, bool all = false) => Load(learner.Networks(), learner.Table, dir, all ? null : ["encoder", "actor"]);

    /// <summary>Loads the networks named in <paramref name="only"/> (null: every one) and the normaliser; returns the
    /// metadata of the last file read.</summary>
    public static IReadOnlyDictionary<string, string> Load(IEnumerable<(string Name, ParameterStore Store, Adam? Optimizer)> networks, UtteranceTable table, string dir,
        IReadOnlyCollection<string>? only)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"checkpoint directory '{dir}' does not exist (expected the 'checkpoint' folder of a train run).");
        IReadOnlyDictionary<string, string> meta = new Dictionary<string, string>();
        foreach (var (name, store, _) in networks)
        {
            if (only != null && !only.Contains(name)) continue;
            string path = Path.Combine(dir, name + ".safetensors");
            if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint '{dir}' has no '{name}.safetensors'.", path);
            meta = Checkpoint.Load(store, path);
        }
        string np = Path.Combine(dir, NormaliserFile);
        if (File.Exists(np))
        {
            var ns = new ParameterStore();
            var mean = ns.Create("mean", table.Dim); var std = ns.Create("std", table.Dim);
            Checkpoint.Load(ns, np);
            table.SetNormaliser(mean.F32.ToArray(), std.F32.ToArray());
        }
        return meta;
    }
}
