// `nanombpo bench bert [--bert DIR | --layers L --hidden H --heads NH --ffn F] --batch B --seq T --threads T`:
// BERT encoder inference throughput (no grad, in the encoder's per-shape TensorArena, full-length
// sequences of seeded random ids), best of --rounds timed runs after a warm-up; ends with "... seq/s".
// Without --bert and without dimensions it runs the default all-MiniLM-L6-v2. --device cpu|cuda|ilgpu-cpu|auto
// (default cpu, like the other bench subcommands, so a row stays comparable with bench/RESULTS.md's CPU
// numbers; auto = CUDA when present): on a device the weights are moved there once and a timed pass is a
// forward on the device kernels plus the download of the last hidden state. The subcommand hangs
// under `nanombpo bench` (BenchCommand.cs adds it). Side by side with ONNX Runtime: bench/RESULTS.md.
// Tests: tests/NanoMbpo.Bert.Tests/CommandTests.cs (a tiny random model on ilgpu-cpu).
using System.CommandLine;
using System.Diagnostics;
using NanoMbpo.Bert;
using NanoMbpo.Cpu;

namespace NanoMbpo.Trainer.Commands;

public static class BenchBertCommand
{
    public static Command Create()
    {
        var bert = BertCommon.BertOption();
        var layers = new Option<int?>("--layers") { Description = "random weights: number of layers" };
        var hidden = new Option<int>("--hidden") { Description = "random weights: hidden size", DefaultValueFactory = _ => 768 };
        var heads = new Option<int>("--heads") { Description = "random weights: attention heads", DefaultValueFactory = _ => 12 };
        var ffn = new Option<int>("--ffn") { Description = "random weights: FFN size", DefaultValueFactory = _ => 3072 };
        var batch = new Option<int>("--batch") { Description = "sequences per forward pass", DefaultValueFactory = _ => 8 };
        var seq = new Option<int>("--seq") { Description = "tokens per sequence", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seconds = new Option<double>("--seconds") { Description = "length of each timed run", DefaultValueFactory = _ => 3.0 };
        var rounds = new Option<int>("--rounds") { Description = "timed runs; the best is reported", DefaultValueFactory = _ => 3 };
        var device = DeviceOption.Create("cpu");
        var cmd = new Command("bert", "BERT encoder inference, sequences per second.") { bert, layers, hidden, heads, ffn, batch, seq, threads, seconds, rounds, device };
        cmd.SetAction(r =>
        {
            int b = r.GetValue(batch), t = r.GetValue(seq), th = r.GetValue(threads);
            if (b < 1 || t < 2 || th < 1) throw new ArgumentOutOfRangeException("--batch", "--batch >= 1, --seq >= 2 and --threads >= 1 are required.");
            CpuThreads.Count = th;
            var dev = DeviceOption.Resolve(r.GetValue(device)!, Console.Out, Console.Error);
            if (dev is null) return 2;
            BertModel model;
            string what;
            if (r.GetValue(layers) is int l)
            {
                if (r.GetValue(bert) is not null) throw new ArgumentException("give either --bert or --layers/--hidden/--heads/--ffn, not both.");
                var c = new BertConfig { NumHiddenLayers = l, HiddenSize = r.GetValue(hidden), NumAttentionHeads = r.GetValue(heads), IntermediateSize = r.GetValue(ffn) };
                model = new BertModel(new ParameterStore(DType.F32, 1 << 20), c, pooler: false, new Rng(1));
                what = "random";
            }
            else
            {
                var ck = BertCheckpoint.Load(BertCommon.Resolve(r.GetValue(bert)));
                model = ck.Model;
                what = Path.GetFileName(Path.TrimEndingDirectorySeparator(ck.Directory));
            }
            var c2 = model.Config;
            double rate = Measure(model, b, t, r.GetValue(seconds), r.GetValue(rounds), dev);
            string where = dev.IsCpu ? $"threads {th}" : $"device {dev.Name}";
            Console.WriteLine($"bert {what} L={c2.NumHiddenLayers} H={c2.HiddenSize} NH={c2.NumAttentionHeads} FF={c2.IntermediateSize} batch {b} seq {t} {where}: {rate:F1} seq/s");
            return 0;
        });
        return cmd;
    }

    /// <summary>Best sequences per second over <paramref name="rounds"/> runs of about <paramref name="seconds"/>
    /// (on <paramref name="device"/>: the model is moved there first; null = where it is).</summary>
    public static double Measure(BertModel model, int batch, int seq, double seconds, int rounds, Device? device = null)
    {
        var rng = new Random(7);
        var ids = new int[batch * seq];
        for (int i = 0; i < ids.Length; i++) ids[i] = i % seq == 0 ? 101 : i % seq == seq - 1 ? 102 : rng.Next(1000, Math.Min(model.Config.VocabSize, 30000));
        var mask = Enumerable.Repeat(1, ids.Length).ToArray();
        var tb = new TokenBatch(ids, mask, new int[ids.Length], Enumerable.Repeat(seq, batch).ToArray(), batch, seq);
        var enc = new BertEncoder(model, new DummyTokenizer().Tokenizer, Math.Min(model.Config.MaxPositionEmbeddings, Math.Max(seq, 2)), batch, device);
        float sink = 0;
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < Math.Min(1.0, seconds / 2)) enc.Run(tb, (_, h) => sink += h[0]);
        double best = 0;
        for (int round = 0; round < rounds; round++)
        {
            var sw = Stopwatch.StartNew();
            int n = 0;
            do { enc.Run(tb, (_, h) => sink += h[0]); n++; } while (sw.Elapsed.TotalSeconds < seconds);
            best = Math.Max(best, n * batch / sw.Elapsed.TotalSeconds);
        }
        if (float.IsNaN(sink)) Console.Error.WriteLine("warning: NaN in the output");
        return best;
    }

    /// <summary>The encoder needs a tokenizer; the bench feeds ids directly, so a one-token vocabulary serves.</summary>
    sealed class DummyTokenizer
    {
        public BertTextTokenizer Tokenizer { get; }
        public DummyTokenizer()
        {
            var path = Path.Combine(Path.GetTempPath(), "nanombpo-bench-vocab.txt");
            File.WriteAllText(path, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
            Tokenizer = new BertTextTokenizer(path);
        }
    }
}
