// MlpPolicy: a seller policy that encodes the dialog history and picks the arg-max action of an MLP
// over the seller action catalog. Runs without recording a graph. Used by BehaviorCloning and eval.
using NanoMbpo.Dialog;
using NanoMbpo.NN;

namespace NanoMbpo.Agent;

public sealed class MlpPolicy(HashedTextEncoder encoder, Mlp net, string name = "bc-mlp") : IDialogPolicy
{
    readonly float[] features = new float[encoder.Dim];
    public string Name => name;
    public HashedTextEncoder Encoder => encoder;
    public Mlp Net => net;

    public int Act(KinPizzaEnv env, DialogRng rng)
    {
        encoder.Encode(env.History, features);
        using var _ = Autograd.NoGrad();
        var logits = net.Forward(Tensor.FromArray(features, 1, encoder.Dim)).F32; // (1, A)
        int best = 0;
        for (int a = 1; a < logits.Length; a++) if (logits[a] > logits[best]) best = a;
        return best;
    }
}
