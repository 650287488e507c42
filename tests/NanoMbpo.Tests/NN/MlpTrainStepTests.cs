// The benchmarked MLP step computes what the naive loop baseline computes (same seeded init, same
// batch): losses agree step by step, the loss falls, and a rerun is bit-identical (determinism).
using NanoMbpo.Bench;
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
}
