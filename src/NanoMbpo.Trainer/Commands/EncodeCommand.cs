// `nanombpo encode [--bert DIR] --input TEXTS.txt --output OUT.safetensors --pooling none|cls|mean
// [--max-len 128] [--device auto|cpu|cuda|ilgpu-cpu]`: one text per line. none writes "hidden" (N,T,H),
// "input_ids" and "attention_mask" (N,T) I32 (T = the longest tokenized line); cls / mean write
// "embeddings" (N,H). --device defaults to auto like `train` (CUDA when present, else the CPU's fused
// path; the choice is one line on stderr); on a device the weights are moved there once and each batch
// is one forward on the device kernels and one download (BertEncoder.cs). Progress with rate on stderr.
// Metadata records the checkpoint's sha256, pooling, max length and device.
// Tests: tests/NanoMbpo.Bert.Tests/CommandTests.cs (every pooling; ilgpu-cpu against cpu).
using System.CommandLine;
using System.Diagnostics;
using NanoMbpo.Bert;
using NanoMbpo.Cpu;
using NanoMbpo.IO;

namespace NanoMbpo.Trainer.Commands;

public static class EncodeCommand
{
    public static Command Create()
    {
        var bert = BertCommon.BertOption();
        var input = new Option<string>("--input") { Description = "UTF-8 text file, one text per line", Required = true };
        var output = new Option<string>("--output") { Description = "output .safetensors", Required = true };
        var pooling = new Option<string>("--pooling") { Description = "none | cls | mean", DefaultValueFactory = _ => "mean" };
        var maxLen = new Option<int?>("--max-len") { Description = "tokens per text incl. [CLS]/[SEP], longer texts truncated (default 128, or the model's positions if fewer)" };
        var batch = new Option<int>("--batch") { Description = "sequences per forward pass", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var device = DeviceOption.Create();
        var cmd = new Command("encode", "Embed texts with BERT: last hidden state, [CLS] or mean pooling, into a safetensors file.") { bert, input, output, pooling, maxLen, batch, threads, device };
        cmd.SetAction(r =>
        {
            var pool = r.GetValue(pooling) switch
            {
                "none" => Pooling.None, "cls" => Pooling.Cls, "mean" => Pooling.Mean,
                var p => throw new ArgumentException($"--pooling must be none, cls or mean; got '{p}'."),
            };
            CpuThreads.Count = Math.Max(1, r.GetValue(threads));
            var dev = DeviceOption.Resolve(r.GetValue(device)!, Console.Error, Console.Error);
            if (dev is null) return 2;
            var ck = BertCheckpoint.Load(BertCommon.Resolve(r.GetValue(bert)));
            var enc = new BertEncoder(ck, r.GetValue(maxLen) ?? Math.Min(128, ck.Config.MaxPositionEmbeddings), r.GetValue(batch), dev);
            var texts = File.ReadAllLines(r.GetValue(input)!);
            int n = texts.Length, h = enc.Hidden;
            var sw = Stopwatch.StartNew();
            long lastReport = 0;
            void Progress(int done)
            {
                if (done < n && sw.ElapsedMilliseconds - lastReport < 1000) return;
                lastReport = sw.ElapsedMilliseconds;
                Console.Error.WriteLine($"encoded {done}/{n} ({done / Math.Max(sw.Elapsed.TotalSeconds, 1e-9):F1} seq/s)");
            }
            var w = new SafeTensorsWriter();
            w.Metadata["bert_sha256"] = ck.ModelSha256;
            w.Metadata["pooling"] = r.GetValue(pooling)!;
            w.Metadata["max_len"] = enc.MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
            w.Metadata["device"] = dev.Name;
            if (pool == Pooling.None)
            {
                var seqs = texts.Select(t => enc.Tokenizer.Encode(t, enc.MaxLength)).ToArray();
                int T = seqs.Length == 0 ? 0 : seqs.Max(s => s.Length);
                var hidden = new float[(long)n * T * h];
                var ids = new int[n * T]; var mask = new int[n * T];
                for (int i = 0; i < n; i++) { seqs[i].CopyTo(ids, i * T); mask.AsSpan(i * T, seqs[i].Length).Fill(1); }
                enc.Encode(texts, (i, hs, len) => hs[..(len * h)].CopyTo(hidden.AsSpan(i * T * h)), Progress);
                w.Add("hidden", [n, T, h], hidden).Add("input_ids", [n, T], ids).Add("attention_mask", [n, T], mask);
            }
            else
            {
                var e = enc.Embed(texts, pool, Progress);
                var flat = new float[n * h];
                Buffer.BlockCopy(e, 0, flat, 0, flat.Length * 4);
                w.Add("embeddings", [n, h], flat);
            }
            w.Save(r.GetValue(output)!);
            Console.WriteLine($"wrote {r.GetValue(output)}: {n} texts, pooling {r.GetValue(pooling)}, device {dev.Name}, {n / Math.Max(sw.Elapsed.TotalSeconds, 1e-9):F1} seq/s");
            return 0;
        });
        return cmd;
    }
}
