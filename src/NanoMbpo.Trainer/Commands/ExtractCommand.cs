// `nanombpo extract --corpus FILE [--bert DIR] --out FILE [--history L] [--max-len 64] [--pooling cls|mean]`:
// the paper's step 1. Corpus dialogs (Taskmaster-1 JSON, e.g. from `nanombpo corpus`) become
// (history, seller response, next customer utterance, reward) tuples (DialogTupleExtractor), and every
// distinct utterance is embedded once with BERT. Writes one safetensors file: "state" (N,L,H) — the
// history's embeddings oldest first, zero padded after the last turn —, "state_mask" (N,L) I32 (1 = a
// turn), "action" (N,H), "next" (N,H) (zeros where the dialog ended without a reply), "next_mask" (N) I32,
// "reward" (N) F32, "done" (N) I32. Tested by tests/NanoMbpo.Bert.Tests/CommandTests.cs.
using System.CommandLine;
using System.Diagnostics;
using NanoMbpo.Bert;
using NanoMbpo.Cpu;
using NanoMbpo.Dialog.Corpus;
using NanoMbpo.IO;

namespace NanoMbpo.Trainer.Commands;

public static class ExtractCommand
{
    public static Command Create()
    {
        var corpus = new Option<string>("--corpus") { Description = "Taskmaster-1 JSON corpus (e.g. from `nanombpo corpus`)", Required = true };
        var bert = BertCommon.BertOption();
        var output = new Option<string>("--out") { Description = "output .safetensors", Required = true };
        var history = new Option<int>("--history") { Description = "turns of history per state (L)", DefaultValueFactory = _ => 8 };
        var maxLen = new Option<int?>("--max-len") { Description = "tokens per utterance (default 64, or the model's positions if fewer)" };
        var pooling = new Option<string>("--pooling") { Description = "cls (the paper) | mean", DefaultValueFactory = _ => "cls" };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("extract", "BERT features of corpus tuples: history states (N,L,H) with masks, action and next-utterance embeddings, rewards.")
            { corpus, bert, output, history, maxLen, pooling, threads };
        cmd.SetAction(r =>
        {
            var pool = r.GetValue(pooling) switch
            {
                "cls" => Pooling.Cls, "mean" => Pooling.Mean,
                var p => throw new ArgumentException($"--pooling must be cls or mean; got '{p}'."),
            };
            int L = r.GetValue(history);
            if (L < 1) throw new ArgumentOutOfRangeException("--history", L, "--history must be >= 1.");
            CpuThreads.Count = Math.Max(1, r.GetValue(threads));
            var tuples = DialogTupleExtractor.ExtractAll(TaskmasterReader.ReadFile(r.GetValue(corpus)!), L);
            var ck = BertCheckpoint.Load(BertCommon.Resolve(r.GetValue(bert)));
            var enc = new BertEncoder(ck, r.GetValue(maxLen) ?? Math.Min(64, ck.Config.MaxPositionEmbeddings));
            var distinct = tuples.SelectMany(t => t.History.Append(t.SellerResponse).Append(t.CustomerNext))
                .Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToList();
            var sw = Stopwatch.StartNew();
            var e = enc.Embed(distinct, pool, done => Console.Error.WriteLine($"embedded {done}/{distinct.Count} utterances ({done / Math.Max(sw.Elapsed.TotalSeconds, 1e-9):F1} seq/s)"));
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < distinct.Count; i++) index[distinct[i]] = i;
            int n = tuples.Count, h = enc.Hidden;
            var state = new float[(long)n * L * h]; var stateMask = new int[n * L];
            var action = new float[n * h]; var next = new float[n * h]; var nextMask = new int[n];
            var reward = new float[n]; var done = new int[n];
            void Copy(string text, float[] into, long at) { int row = index[text]; for (int k = 0; k < h; k++) into[at + k] = e[row, k]; }
            for (int i = 0; i < n; i++)
            {
                var t = tuples[i];
                for (int j = 0; j < t.History.Count; j++)
                {
                    if (t.History[j].Length > 0) Copy(t.History[j], state, ((long)i * L + j) * h);
                    stateMask[i * L + j] = 1;
                }
                Copy(t.SellerResponse, action, (long)i * h);
                if (t.CustomerNext.Length > 0) { Copy(t.CustomerNext, next, (long)i * h); nextMask[i] = 1; }
                reward[i] = (float)t.Reward;
                done[i] = t.Done ? 1 : 0;
            }
            var w = new SafeTensorsWriter();
            w.Metadata["bert_sha256"] = ck.ModelSha256;
            w.Metadata["pooling"] = r.GetValue(pooling)!;
            w.Add("state", [n, L, h], state).Add("state_mask", [n, L], stateMask).Add("action", [n, h], action)
                .Add("next", [n, h], next).Add("next_mask", [n], nextMask).Add("reward", [n], reward).Add("done", [n], done);
            w.Save(r.GetValue(output)!);
            Console.WriteLine($"wrote {r.GetValue(output)}: {n} tuples, {distinct.Count} distinct utterances, L={L}, H={h}");
            return 0;
        });
        return cmd;
    }
}
