// An utterance's embedding is a function of its text alone: bit for bit the same whether it is encoded alone,
// in a batch padded to a longer neighbour, or with any thread count. The agent caches each utterance's vector
// on disk the first time it is met, so a vector that depended on its first batch made a run's result depend on
// what earlier runs had cached (seed 3 of `compare` and of `train` took different paths: 73 % and 95.5 %).
using NanoMbpo;

namespace NanoMbpo.Bert.Tests;

public class PaddingInvarianceTests
{
    static readonly string[] Texts =
    [
        "Yes, that's right.",
        "Hi, I'd like two large pepperoni pizzas with extra cheese and a thin crust for delivery, please.",
        "No.",
        "Can I get a name for the order?",
        "I want one medium pizza with mushrooms, onions, green peppers, olives and sausage, and two diet cokes for pickup.",
    ];

    static void AssertBitwiseAloneEqualsBatched(BertEncoder enc, Pooling pooling)
    {
        var batched = enc.Embed(Texts, pooling);
        for (int i = 0; i < Texts.Length; i++)
        {
            var alone = enc.Embed([Texts[i]], pooling);
            for (int k = 0; k < enc.Hidden; k++)
                Assert.True(BitConverter.SingleToInt32Bits(alone[0, k]) == BitConverter.SingleToInt32Bits(batched[i, k]),
                    $"'{Texts[i]}' ({pooling}) dim {k}: alone {alone[0, k]:R}, in a padded batch {batched[i, k]:R}");
        }
    }

    [Fact]
    public void TinyEmbeddingIgnoresItsBatch()
    {
        var enc = new BertEncoder(BertCheckpoint.Load(TestData.Tiny), maxLength: 24);
        AssertBitwiseAloneEqualsBatched(enc, Pooling.Cls);
        AssertBitwiseAloneEqualsBatched(enc, Pooling.Mean);
    }

    [MiniLmFact]
    public void MiniLmEmbeddingIgnoresItsBatchAndThreads()
    {
        var enc = new BertEncoder(MiniLm.Checkpoint);
        AssertBitwiseAloneEqualsBatched(enc, Pooling.Cls);
        AssertBitwiseAloneEqualsBatched(enc, Pooling.Mean);
        var two = enc.Embed(Texts, Pooling.Cls);
        float[,] one;
        using (Compute.With(threads: 1)) one = enc.Embed(Texts, Pooling.Cls);
        for (int i = 0; i < Texts.Length; i++)
            for (int k = 0; k < enc.Hidden; k++)
                Assert.True(BitConverter.SingleToInt32Bits(one[i, k]) == BitConverter.SingleToInt32Bits(two[i, k]), $"'{Texts[i]}' dim {k}: 1 thread {one[i, k]:R}, default threads {two[i, k]:R}");
    }
}
