// The naive C# anchor for the MLP training-step benchmark (MlpStepBench): the same math as
// NN/MlpTrainStep.cs in plain loops, with the same seeded initialisation, so the two produce the same
// losses (checked by tests/NanoMbpo.Tests/NN/MlpTrainStepTests.cs, which links this file).
namespace NanoMbpo.Bench;

/// <summary>The same training step written as plain C# loops (the anchor a hand-written program
/// would start from): row-major weights (out,in), ReLU between layers, MSE, Adam (torch defaults).
/// One fixed batch (the engine workload cycles several; the test compares with batches: 1).</summary>
public sealed class NaiveMlp
{
    readonly int[] sizes;
    readonly int batch;
    readonly float[][] w, b, dw, db, mw, vw, mb, vb;
    readonly float[][] acts;   // acts[0] = input, acts[l+1] = layer l output (after ReLU except the last)
    readonly float[][] dActs;
    readonly float[] target;
    int t;

    public NaiveMlp(int[] sizes, int batch, ulong seed)
    {
        this.sizes = sizes; this.batch = batch;
        int L = sizes.Length - 1;
        var rng = new Rng(seed);
        w = new float[L][]; b = new float[L][]; dw = new float[L][]; db = new float[L][];
        mw = new float[L][]; vw = new float[L][]; mb = new float[L][]; vb = new float[L][];
        for (int l = 0; l < L; l++)
        {
            int fi = sizes[l], fo = sizes[l + 1];
            double bound = 1 / Math.Sqrt(fi);
            w[l] = new float[fo * fi]; b[l] = new float[fo];
            for (int i = 0; i < w[l].Length; i++) w[l][i] = (float)rng.Uniform(-bound, bound);
            for (int i = 0; i < fo; i++) b[l][i] = (float)rng.Uniform(-bound, bound);
            dw[l] = new float[fo * fi]; db[l] = new float[fo];
            mw[l] = new float[fo * fi]; vw[l] = new float[fo * fi]; mb[l] = new float[fo]; vb[l] = new float[fo];
        }
        acts = sizes.Select(s => new float[batch * s]).ToArray();
        dActs = sizes.Select(s => new float[batch * s]).ToArray();
        for (int i = 0; i < acts[0].Length; i++) acts[0][i] = (float)rng.Normal();
        target = new float[batch * sizes[^1]];
        for (int i = 0; i < target.Length; i++) target[i] = (float)rng.Normal();
    }

    public float Step()
    {
        int L = sizes.Length - 1;
        for (int l = 0; l < L; l++)
        {
            int fi = sizes[l], fo = sizes[l + 1];
            var x = acts[l]; var y = acts[l + 1];
            for (int r = 0; r < batch; r++)
                for (int o = 0; o < fo; o++)
                {
                    float s = b[l][o];
                    for (int i = 0; i < fi; i++) s += x[r * fi + i] * w[l][o * fi + i];
                    y[r * fo + o] = l + 1 < L && s < 0 ? 0 : s;
                }
        }
        var pred = acts[L]; var dPred = dActs[L];
        float loss = 0;
        for (int i = 0; i < pred.Length; i++)
        {
            float d = pred[i] - target[i];
            loss += d * d;
            dPred[i] = 2 * d / pred.Length;
        }
        for (int l = L - 1; l >= 0; l--)
        {
            int fi = sizes[l], fo = sizes[l + 1];
            var x = acts[l]; var dy = dActs[l + 1]; var dx = dActs[l];
            Array.Clear(dw[l]); Array.Clear(db[l]); Array.Clear(dx);
            for (int r = 0; r < batch; r++)
                for (int o = 0; o < fo; o++)
                {
                    float g = dy[r * fo + o];
                    db[l][o] += g;
                    for (int i = 0; i < fi; i++)
                    {
                        dw[l][o * fi + i] += g * x[r * fi + i];
                        dx[r * fi + i] += g * w[l][o * fi + i];
                    }
                }
            if (l > 0)   // through the ReLU that produced x
                for (int i = 0; i < dx.Length; i++) if (x[i] <= 0) dx[i] = 0;
        }
        t++;
        for (int l = 0; l < L; l++) { Adam(w[l], dw[l], mw[l], vw[l]); Adam(b[l], db[l], mb[l], vb[l]); }
        return loss / pred.Length;
    }

    void Adam(float[] p, float[] g, float[] m, float[] v)
    {
        const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        float bc1 = 1 - MathF.Pow(b1, t), bc2 = 1 - MathF.Pow(b2, t);
        for (int i = 0; i < p.Length; i++)
        {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            p[i] -= lr * (m[i] / bc1) / (MathF.Sqrt(v[i] / bc2) + eps);
        }
    }
}
