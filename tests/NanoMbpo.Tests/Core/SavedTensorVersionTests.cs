// Saved tensors are versioned: modifying in place a tensor a recorded op saved for its backward
// (through MarkModified, an optimizer step, a store copy) makes backward throw, naming the op and the
// tensor, as torch does; the normal forward → backward → step order is never refused.
using NanoMbpo.NN;
using NanoMbpo.Optim;
using Xunit;

namespace NanoMbpo.Tests.Core;

public class SavedTensorVersionTests
{
    [Fact]
    public void InPlaceChangeOfASavedInputIsRefusedByName()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3 }, 1, 3).RequireGrad();
        x.Name = "logits";
        var y = F.Softmax(F.Mul(x, x));
        int before = x.Version;
        x.F32[0] = 5;
        x.MarkModified();
        Assert.Equal(before + 1, x.Version);
        var e = Assert.Throws<InvalidOperationException>(() => F.SumAll(y).Backward());
        Assert.Contains("'mul'", e.Message);
        Assert.Contains("'logits'", e.Message);
        Assert.Contains("modified in place", e.Message);
    }

    [Fact]
    public void AnOptimizerStepBeforeBackwardIsRefusedAndTheNormalOrderWorks()
    {
        var store = new ParameterStore();
        var lin = new Linear(store, "fc.", 3, 2, new Rng(1));
        var opt = new Adam(store, 0.1);
        var x = Tensor.FromArray(new float[] { 1, -1, 0.5f }, 1, 3);

        var loss = F.SumAll(lin.Forward(x));
        opt.Step();   // the weight linear saved has changed
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("'linear'", e.Message);
        Assert.Contains("fc.", e.Message);

        // The failed backward freed its graph; the usual order runs, twice (pooled nodes reused).
        for (int i = 0; i < 2; i++)
        {
            store.ZeroGrad();
            var l = F.SumAll(lin.Forward(x));
            l.Backward();
            opt.Step();
        }
        Assert.Equal(new float[] { 1, -1, 0.5f }, store["fc.weight"].Grad!.F32[..3].ToArray());
    }

    [Fact]
    public void StoreCopiesMarkTheirParameters()
    {
        var a = new ParameterStore(); var b = new ParameterStore();
        var la = new Linear(a, "l.", 2, 2, new Rng(1)); _ = new Linear(b, "l.", 2, 2, new Rng(2));
        var x = Tensor.FromArray(new float[] { 1, 2 }, 1, 2);
        var loss = F.SumAll(la.Forward(x));
        a.PolyakUpdate(b, 0.5);
        Assert.Throws<InvalidOperationException>(() => loss.Backward());
        loss = F.SumAll(la.Forward(x));
        a.CopyFrom(b);
        Assert.Throws<InvalidOperationException>(() => loss.Backward());
    }
}
