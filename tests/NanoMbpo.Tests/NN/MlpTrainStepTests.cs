// The benchmarked MLP step computes what the naive loop baseline computes (same seeded init, same
// batch): losses agree step by step, the loss falls, and a rerun is bit-identical (determinism).
using NanoMbpo.Bench;
using NanoMbpo.Cpu;
using NanoMbpo.NN;
using Xunit;

namespace NanoMbpo.Tests.NN;

public class MlpTrainStepTests
{
    [Fact]
    public void EngineStepMatchesNaiveBaseline()
    {
        int[] sizes = [8, 16, 16, 4];
        var engine = new MlpTrainStep(sizes, batch: 12, seed: 3, batches: 1);
        var naive = new NaiveMlp(sizes, 12, seed: 3);
        var losses = new List<float>();
        for (int s = 0; s < 5; s++)
        {
            float a = engine.Step(), b = naive.Step();
            Assert.True(Math.Abs(a - b) <= 1e-5 * Math.Abs(b) + 1e-7, $"step {s}: engine {a} vs naive {b}");
            losses.Add(a);
        }
        Assert.True(losses[^1] < losses[0]);

        var again = new MlpTrainStep(sizes, batch: 12, seed: 3, batches: 1);
        for (int s = 0; s < 5; s++) Assert.Equal(losses[s], again.Step());
    }

    // Large enough that Linear's backward runs dX and dW side by side on two threads (CpuThreads.Invoke)
    // and the GEMMs and Adam split over threads: the result must not depend on the thread count.
    [Fact]
    public void OneTwoAndThreeThreadsGiveIdenticalSteps()
    {
        var runs = new List<(float[] Losses, float[] Params)>();
        foreach (int t in new[] { 1, 2, 3 })
        {
            using var _ = Compute.With(threads: t);   // this thread only: other tests are not affected
            Assert.Equal(t, CpuThreads.Count);
            var step = new MlpTrainStep([64, 256, 256, 16], batch: 64, seed: 5, batches: 2);
            var losses = new float[3];
            for (int i = 0; i < 3; i++) losses[i] = step.Step();
            runs.Add((losses, step.Store.Data<float>().ToArray()));
        }
        Assert.Equal(runs[0].Losses, runs[1].Losses);
        Assert.Equal(runs[0].Params, runs[1].Params);
        Assert.Equal(runs[0].Losses, runs[2].Losses);
        Assert.Equal(runs[0].Params, runs[2].Params);
    }
}
