// Saves and loads a seller agent's networks: one safetensors file per network (encoder, its EMA target,
// actor, critics, critic targets, dynamics head, temperature) in a checkpoint directory, each written
// atomically, so a crash mid-save leaves the previous checkpoint whole. Loading validates every key and
// shape (NN.Checkpoint) before any parameter changes. Tested by tests/NanoMbpo.Agent.Tests/SellerTests.cs.
using NanoMbpo.NN;

namespace NanoMbpo.Agent;

public static class SellerCheckpoint
{
    public static void Save(SellerMbpo agent, string dir) => Save(agent.Learner, dir, agent.DialogsDone);

    public static void Save(LatentSac learner, string dir, int dialogs)
    {
        Directory.CreateDirectory(dir);
        var meta = new Dictionary<string, string> { ["dialogs"] = dialogs.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (name, store, _) in learner.Networks()) Checkpoint.Save(store, Path.Combine(dir, name + ".safetensors"), meta);
        if (learner.Table.Mean is { } mean)
        {
            var ns = new ParameterStore();
            mean.CopyTo(ns.Create("mean", mean.Length).F32);
            learner.Table.StdDev!.CopyTo(ns.Create("std", mean.Length).F32);
            Checkpoint.Save(ns, Path.Combine(dir, NormaliserFile), meta);
        }
    }

    public const string NormaliserFile = "utterance_normaliser.safetensors";

    /// <summary>Loads what a policy needs to act (encoder and actor); <paramref name="all"/> loads every network.</summary>
    public static void Load(LatentSac learner, string dir, bool all = false)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"checkpoint directory '{dir}' does not exist (expected the 'checkpoint' folder of a train run).");
        foreach (var (name, store, _) in learner.Networks())
        {
            if (!all && name is not ("encoder" or "actor")) continue;
            string path = Path.Combine(dir, name + ".safetensors");
            if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint '{dir}' has no '{name}.safetensors'.", path);
            Checkpoint.Load(store, path);
        }
        string np = Path.Combine(dir, NormaliserFile);
        if (File.Exists(np))
        {
            var ns = new ParameterStore();
            var mean = ns.Create("mean", learner.Table.Dim); var std = ns.Create("std", learner.Table.Dim);
            Checkpoint.Load(ns, np);
            learner.Table.SetNormaliser(mean.F32.ToArray(), std.F32.ToArray());
        }
    }
}
