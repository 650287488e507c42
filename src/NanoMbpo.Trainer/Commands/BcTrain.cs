// `nanombpo train --method bc`: behaviour cloning, the stage-1 main job kept as a baseline. It trains a seller policy by behaviour cloning of the
// rule-based expert on the KinPizza simulator (features from HashedTextEncoder, MLP, Adam), then
// evaluates it beside the random and rule baselines. Writes the checkpoint, a JSON summary and PNG
// plots under --out. Runs on an embedded default (no files needed): `nanombpo train`; `--device
// auto|cpu|cuda|ilgpu-cpu` picks where training runs (auto = CUDA when present, else the CPU).
using System.CommandLine;
using System.Text.Json;
using NanoMbpo.Agent;
using NanoMbpo.Cpu;
using NanoMbpo.Dialog;

namespace NanoMbpo.Trainer.Commands;

internal static class BcTrain
{
    /// <summary>Trains and evaluates; writes the checkpoint, summary and plots under <paramref name="dir"/>.</summary>
    public static int Run(BcOptions o, int t, string deviceSpec, string dir)
    {
        var dev = DeviceOption.Resolve(deviceSpec, Console.Out, Console.Error);
        if (dev is null) return 2;
        Directory.CreateDirectory(dir);
        string ckpt = Path.Combine(dir, "policy.safetensors");
        Console.WriteLine($"nanombpo train: behaviour cloning on KinPizza, seed {o.Seed}, {t} threads, device {dev}");
        var r = BehaviorCloning.Run(o, Console.WriteLine, ckpt, dev);

        Console.WriteLine();
        Console.WriteLine($"{"policy",-10} {"success",8} {"95% CI",15} {"turns",6} {"return",8} {"slot F1",7} {"hang-up",7}");
        foreach (var e in new[] { r.Learner, r.Rule, r.Random })
            Console.WriteLine($"{e.Policy,-10} {e.Success.Mean,8:P1} {$"[{e.Success.Low:P1}, {e.Success.High:P1}]",15} {e.Turns.Mean,6:F1} {e.Return.Mean,8:F2} {e.SlotF1.Mean,7:F3} {e.HangUp.Mean,7:P1}");

        var x = r.Curve.Select(c => (double)c.Epoch).ToArray();
        Plots.Curve(Path.Combine(dir, "learning_curve.png"), "Behaviour cloning", "epoch",
            x, ("loss", r.Curve.Select(c => c.Loss).ToArray()), ("accuracy", r.Curve.Select(c => c.Accuracy).ToArray()));
        Plots.SuccessBars(Path.Combine(dir, "success.png"), $"Task success, {o.EvalEpisodes} episodes", [r.Learner, r.Rule, r.Random]);
        var summary = new
        {
            job = "behaviour-cloning", seed = o.Seed, states = r.States,
            curve = r.Curve,
            policies = new[] { r.Learner, r.Rule, r.Random }.Select(e => new { policy = e.Policy, episodes = e.Episodes, success_rate = e.Success.Mean, success_ci_low = e.Success.Low, success_ci_high = e.Success.High, avg_turns = e.Turns.Mean, avg_return = e.Return.Mean, slot_f1 = e.SlotF1.Mean, hangup_rate = e.HangUp.Mean }),
        };
        NanoMbpo.IO.AtomicFile.WriteAllText(Path.Combine(dir, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {ckpt}, summary.json, learning_curve.png, success.png in {dir}");
        Console.WriteLine($"behaviour-cloned policy success {r.Learner.Success.Mean:P1} (rule {r.Rule.Success.Mean:P1}, random {r.Random.Success.Mean:P1})");
        return 0;
    }
}
