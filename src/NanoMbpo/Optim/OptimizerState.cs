// Saving and restoring Adam/AdamW state (exp_avg, exp_avg_sq per parameter and the step count) as
// safetensors: "exp_avg.<param>", "exp_avg_sq.<param>", "step" (I64). Loading validates keys and
// shapes against the optimizer's store, the step (I64, 0..int.MaxValue) and the moments (finite, second
// moments >= 0). Tests: tests/NanoMbpo.Tests/NN/CheckpointTests.cs; fuzz target optimizer-state.
using NanoMbpo.IO;

namespace NanoMbpo.Optim;

public static class OptimizerState
{
    public static void Save(Adam opt, string path)
    {
        ArgumentNullException.ThrowIfNull(opt);
        var w = new SafeTensorsWriter();
        foreach (var (p, m, v) in Views(opt))
        {
            NN.Checkpoint.AddTensor(w, "exp_avg." + p.Name, m);
            NN.Checkpoint.AddTensor(w, "exp_avg_sq." + p.Name, v);
        }
        w.Add("step", [1], new long[] { opt.StepCount });
        w.Metadata["optimizer"] = opt.Decoupled ? "AdamW" : "Adam";
        w.Save(path);
    }

    public static void Load(Adam opt, string path)
    {
        ArgumentNullException.ThrowIfNull(opt);
        using var file = SafeTensorsFile.Open(path);
        var views = Views(opt).ToList();
        var reads = new List<(Tensor Dst, SafeTensorEntry E)>();
        foreach (var (p, m, v) in views)
            foreach (var (key, dst) in new[] { ("exp_avg." + p.Name, m), ("exp_avg_sq." + p.Name, v) })
            {
                if (!file.TryGet(key, out var e)) throw new InvalidDataException($"optimizer state '{path}': missing key '{key}'.");
                if (!e.ShapeArray().AsSpan().SequenceEqual(dst.Shape))
                    throw new InvalidDataException($"optimizer state '{path}': '{key}' has shape {ShapeUtil.Format(e.ShapeArray())}, expected {dst.ShapeString}.");
                reads.Add((dst, e));
            }
        if (!file.TryGet("step", out var se) || se.ElementCount != 1) throw new InvalidDataException($"optimizer state '{path}': missing the one-element 'step'.");
        int expected = 2 * views.Count + 1;
        if (file.Entries.Count != expected)
            throw new InvalidDataException($"optimizer state '{path}': {file.Entries.Count} tensors, expected {expected} for this model.");
        if (se.DType != SafeTensorsDType.I64) throw new InvalidDataException($"optimizer state '{path}': field 'step' is {se.DType}, expected I64.");
        long step = se.ReadInt64()[0];
        if (step < 0 || step > int.MaxValue) throw new InvalidDataException($"optimizer state '{path}': field 'step' is {step}, outside 0..{int.MaxValue}.");
        foreach (var (dst, e) in reads)
        {
            if (dst.DType == DType.F32) e.ReadFloat32(dst.F32, allowNarrowing: true);
            else e.ReadFloat64(dst.F64);
            for (int i = 0; i < dst.Length; i++)
            {
                double v = dst.GetFlat(i);
                if (!double.IsFinite(v) || e.Name.StartsWith("exp_avg_sq.", StringComparison.Ordinal) && v < 0)
                    throw new InvalidDataException($"optimizer state '{path}': field '{e.Name}' holds {v} at flat index {i} (damaged moments).");
            }
        }
        opt.SetStepCount(step);
    }

    /// <summary>Per-parameter views into the optimizer's flat moment buffers.</summary>
    static IEnumerable<(Tensor P, Tensor M, Tensor V)> Views(Adam opt)
    {
        var (m, v) = opt.MomentStorages();
        foreach (var p in opt.Store.Parameters)
            yield return (p, new Tensor(m, p.Offset, p.Shape, p.DType), new Tensor(v, p.Offset, p.Shape, p.DType));
    }
}
