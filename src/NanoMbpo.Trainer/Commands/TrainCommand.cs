// `nanombpo train`: the main job. Stage 1 trains a seller policy by behaviour cloning of the
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

internal static class TrainCommand
{
    public static Command Create()
    {
        var d = new BcOptions();
        var seed = new Option<ulong>("--seed") { Description = "Seed for the corpus, initialisation, batches and evaluation.", DefaultValueFactory = _ => d.Seed };
        var dialogs = new Option<int>("--dialogs") { Description = "Dialogs played by the noisy expert to collect states.", DefaultValueFactory = _ => d.Dialogs };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the collected states.", DefaultValueFactory = _ => d.Epochs };
        var evalEpisodes = new Option<int>("--eval-episodes") { Description = "Evaluation episodes per policy.", DefaultValueFactory = _ => d.EvalEpisodes };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => d.LearningRate };
        var threads = new Option<int>("--threads") { Description = "CPU threads for the kernels.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var device = DeviceOption.Create();
        var outDir = new Option<string>("--out") { Description = "Folder for the checkpoint, summary and plots.", DefaultValueFactory = _ => Path.Combine("runs", "train") };
        var cmd = new Command("train", "Main job: train a seller policy on the KinPizza simulator and compare it with the baselines.")
        {
            seed, dialogs, epochs, evalEpisodes, lr, threads, device, outDir,
        };
        cmd.SetAction(p =>
        {
            int t = p.GetValue(threads);
            if (t < 1) throw new ArgumentOutOfRangeException("--threads", t, "expected at least 1");
            CpuThreads.Count = t;
            var o = d with
            {
                Seed = p.GetValue(seed), Dialogs = p.GetValue(dialogs), Epochs = p.GetValue(epochs),
                EvalEpisodes = p.GetValue(evalEpisodes), LearningRate = p.GetValue(lr),
            };
            var dev = DeviceOption.Resolve(p.GetValue(device)!, Console.Out, Console.Error);
            if (dev is null) return 2;
            string dir = p.GetValue(outDir)!;
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
        });
        return cmd;
    }
}
