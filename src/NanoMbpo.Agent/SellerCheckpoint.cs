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
    }

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
    }
}
