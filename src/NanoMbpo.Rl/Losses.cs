// Losses the algorithms compose from the engine's differentiable ops (so their gradients are the
// ops' own, already gradient-checked): the Huber loss of DQN. The world model's Gaussian loss with
// learned log-variance bounds is in WorldModel.cs. Gradient checks: tests/NanoMbpo.Rl.Tests/ModelTests.cs.
namespace NanoMbpo.Rl;

public static class Losses
{
    /// <summary>Huber / smooth L1 with δ = 1, averaged (torch's F.smooth_l1_loss):
    /// ½d² where |d| &lt; 1, |d| − ½ elsewhere, written ½q² + (|d| − q) with q = min(|d|, 1).</summary>
    public static Tensor Huber(Tensor pred, Tensor target)
    {
        var a = F.Abs(pred - target);
        var q = F.Minimum(a, Tensor.Scalar(1.0, a.DType));
        return F.MeanAll(q * q * 0.5 + (a - q));
    }
}
