// The probabilistic ensemble world model of MBPO (Chua et al. 2018 PETS; Janner et al. 2019):
// E members (default 7), each an MLP on normalised [s, a] with 4 SiLU layers of 200 (EnsembleLinear:
// one batched GEMM per layer for all members) predicting the mean and log-variance of [r, s' − s].
// The log-variance is soft-bounded by learned bounds,
//   logvar = maxLV − softplus(maxLV − raw);  logvar = minLV + softplus(logvar − minLV),
// and the loss is the Gaussian NLL + 0.01·(Σ maxLV − Σ minLV) + per-layer L2 decay ½·wd·ΣW².
// Training: inputs normalised by the data's mean and std; a holdout split (20%, ≤ 5000); each member
// on its own bootstrap resample; epochs until no member's holdout MSE improves by 1% for 5 checks
// (a check after every epoch, or after as many epochs as make ≥ MinStepsPerCheck gradient steps),
// at most MaxTrainSteps gradient steps per call;
// the E_elite members with the lowest holdout MSE become the elites. Predict samples each row from a
// random elite (TS-1); PredictMeans gives every member's mean on its own rows (MPC). Training checks every gradient (NumericGuard) and keeps the round's largest norm.
// On an accelerator (MoveTo) the members and their optimizer live there; the normaliser stays on the host,
// which builds each batch and uploads it, and reads back the predictions.
// Gradient checks of the loss and layers: tests/NanoMbpo.Rl.Tests/ModelTests.cs;
// learning test: tests/NanoMbpo.Rl.Tests/ModelTests.cs.
using NanoMbpo.Diagnostics;
using NanoMbpo.NN;
using NanoMbpo.Optim;

namespace NanoMbpo.Rl;

/// <summary>The ensemble's training loss: MBPO's Gaussian NLL with learned variance, or the latent-MBPO paper's
/// squared error on [r, Δs] (a deterministic model: Predict returns each elite's mean, no sampling).</summary>
public enum WorldModelLoss { GaussianNll, L2 }

public sealed record WorldModelOptions
{
    public WorldModelLoss Loss { get; init; } = WorldModelLoss.GaussianNll;
    public int Members { get; init; } = 7;
    public int Elites { get; init; } = 5;
    public int Hidden { get; init; } = 200;
    public int HiddenLayers { get; init; } = 4;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>L2 coefficient per layer (MBPO: 2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4 for the output).</summary>
    public double[] WeightDecay { get; init; } = [2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4];
    public int BatchSize { get; init; } = 256;
    public double HoldoutRatio { get; init; } = 0.2;
    public int MaxHoldout { get; init; } = 5000;
    /// <summary>Early stopping: holdout checks in a row without a 1 % gain in any member (MBPO 5).</summary>
    public int MaxEpochsSinceUpdate { get; init; } = 5;
    /// <summary>Gradient steps between holdout checks: one epoch, or more epochs until at least this
    /// many. MBPO checks every epoch, but its first fit has 5000 rows (16 steps an epoch); here the first
    /// fit has 500 rows, one step an epoch, and five one-step epochs stopped it on the plateau every
    /// fresh fit crosses (holdout MSE 0.8 at 200 steps, 0.07 at 600, 0.003 at 1500, 500 Pendulum rows).</summary>
    public int MinStepsPerCheck { get; init; } = 50;
    /// <summary>A cap on gradient steps per training call (MBPO has none; bounded here for wall time:
    /// the model warm-starts from its last fit). 400 is 25 epochs of 4000 training rows.</summary>
    public int MaxTrainSteps { get; init; } = 400;
    /// <summary>A cap on epochs per training call (tests use it to bound tiny runs).</summary>
    public int MaxEpochs { get; init; } = 100_000;
}

public sealed class WorldModel
{
    public WorldModelOptions Options { get; }
    public int ObsDim { get; }
    public int ActDim { get; }
    public int InDim => ObsDim + ActDim;
    public int OutDim => 1 + ObsDim;
    public ParameterStore Store { get; }
    readonly NumericGuard guard;
    /// <summary>Largest gradient norm of the last Train call (its divergence shows before a NaN).</summary>
    public double LastGradNormMax { get; private set; }
    /// <summary>Input mean and std (not trained; saved with checkpoints).</summary>
    public ParameterStore NormStore { get; }
    public Adam Optimizer { get; }
    readonly EnsembleLinear[] layers;
    readonly Tensor maxLogVar, minLogVar, inMean, inStd;
    public int[] EliteIndices { get; private set; }

    public WorldModel(int obsDim, int actDim, Rng rng, WorldModelOptions? options = null, DType dtype = DType.F32)
    {
        Store = new ParameterStore(dtype); NormStore = new ParameterStore(dtype);
        Options = options ?? new WorldModelOptions();
        ObsDim = obsDim; ActDim = actDim;
        int E = Options.Members, H = Options.Hidden;
        if (Options.WeightDecay.Length != Options.HiddenLayers + 1)
            throw new ArgumentException($"world model: {Options.WeightDecay.Length} weight decays for {Options.HiddenLayers + 1} layers.");
        layers = new EnsembleLinear[Options.HiddenLayers + 1];
        for (int i = 0; i <= Options.HiddenLayers; i++)
            layers[i] = new EnsembleLinear(Store, $"layers.{i}.", E, i == 0 ? InDim : H, i == Options.HiddenLayers ? 2 * OutDim : H, rng.Fork((ulong)i));
        maxLogVar = Store.Create("max_logvar", OutDim); Init.Constant(maxLogVar, 0.5);
        minLogVar = Store.Create("min_logvar", OutDim); Init.Constant(minLogVar, -10);
        inMean = NormStore.Create("input_mean", InDim); inStd = NormStore.Create("input_std", InDim); Init.Ones(inStd);
        Optimizer = new Adam(Store, Options.LearningRate);
        guard = new NumericGuard(Store, "world_model");
        EliteIndices = Enumerable.Range(0, Options.Elites).ToArray();
    }

    /// <summary>Where the members live; the CPU by default.</summary>
    public Device Device => Store.Device;

    /// <summary>Moves the members (not the normaliser, which the host applies) to <paramref name="device"/>.</summary>
    public void MoveTo(Device device) => Store.MoveTo(device);

    // To returns the tensor itself when it is already there, so on the CPU these cost nothing
    Tensor Up(Tensor t) => t.To(Device);
    static Tensor Host(Tensor t) => t.To(Device.Cpu);

    /// <summary>Normalised inputs (E, B, in) → mean and bounded log-variance, each (E, B, OutDim).</summary>
    public (Tensor Mean, Tensor LogVar) Forward(Tensor x)
    {
        var h = x;
        for (int i = 0; i < layers.Length - 1; i++) h = F.Silu(layers[i].Forward(h));
        var o = layers[^1].Forward(h);
        var mean = F.Slice(o, -1, 0, OutDim);
        var raw = F.Slice(o, -1, OutDim, OutDim);
        var lv = maxLogVar - F.Softplus(maxLogVar - raw);
        lv = minLogVar + F.Softplus(lv - minLogVar);
        return (mean, lv);
    }

    /// <summary>The training loss of a batch: Gaussian NLL + bound penalty + per-layer L2 (or, with
    /// WorldModelLoss.L2, the mean squared error of the means + per-layer L2).</summary>
    public Tensor Loss(Tensor x, Tensor target)
    {
        var (mean, lv) = Forward(x);
        var loss = Options.Loss == WorldModelLoss.L2 ? F.MseLoss(mean, target)
            : F.GaussianNll(mean, lv, target) + (F.SumAll(maxLogVar) - F.SumAll(minLogVar)) * 0.01;
        for (int i = 0; i < layers.Length; i++) loss = loss + F.SumAll(layers[i].Weight * layers[i].Weight) * (0.5 * Options.WeightDecay[i]);
        return loss;
    }

    /// <summary>Fits the normaliser, then trains on the whole real buffer with holdout early stopping;
    /// returns (epochs, holdout MSE of each member) and sets the elites.</summary>
    public (int Epochs, double[] HoldoutMse) Train(ReplayBuffer data, Rng rng, long step = 0)
    {
        int n = data.Count, E = Options.Members, B = Options.BatchSize;
        var (inputs, targets) = Dataset(data);
        FitNormaliser(inputs, n);
        var perm = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(perm.AsSpan());
        int nHold = Math.Min(Options.MaxHoldout, (int)(n * Options.HoldoutRatio)), nTrain = n - nHold;
        var hold = perm[..nHold]; var train = perm[nHold..];
        // each member trains on its own bootstrap resample of the training split
        var boot = new int[E][];
        for (int e = 0; e < E; e++) { boot[e] = new int[nTrain]; for (int i = 0; i < nTrain; i++) boot[e][i] = train[rng.NextInt(nTrain)]; }
        var best = HoldoutMse(inputs, targets, hold);
        int sinceUpdate = 0, epoch = 0, steps = 0, sinceCheck = 0;
        double normMax = 0;
        var arena = new TensorArena();
        while (epoch < Options.MaxEpochs && steps < Options.MaxTrainSteps && sinceUpdate < Options.MaxEpochsSinceUpdate)
        {
            for (int e = 0; e < E; e++) rng.Shuffle(boot[e].AsSpan());
            for (int start = 0; start + B <= Math.Max(nTrain, B); start += B)
            {
                int bs = Math.Min(B, nTrain - start);
                if (bs <= 0) break;
                using var scope = arena.Use();
                var x = Tensor.Zeros(E, bs, InDim); var y = Tensor.Zeros(E, bs, OutDim);
                for (int e = 0; e < E; e++)
                    for (int i = 0; i < bs; i++)
                    {
                        int k = boot[e][start + i];
                        Normalise(inputs.AsSpan(k * InDim, InDim), x.F32.Slice((e * bs + i) * InDim, InDim));
                        targets.AsSpan(k * OutDim, OutDim).CopyTo(y.F32.Slice((e * bs + i) * OutDim, OutDim));
                    }
                var loss = Nets.Loss(step, "world model", () => Loss(Up(x), Up(y)), out _);
                loss.Backward();
                normMax = Math.Max(normMax, guard.CheckGradients(step));   // a NaN gradient names the step and parameter
                Optimizer.Step(zeroGrad: true);
                steps++; sinceCheck++;
                if (steps >= Options.MaxTrainSteps) break;
            }
            epoch++;
            if (sinceCheck < Options.MinStepsPerCheck && steps < Options.MaxTrainSteps) continue;
            sinceCheck = 0;
            var mse = HoldoutMse(inputs, targets, hold);
            bool improved = false;
            for (int e = 0; e < E; e++)
                if ((best[e] - mse[e]) / best[e] > 0.01) { best[e] = mse[e]; improved = true; }
            sinceUpdate = improved ? 0 : sinceUpdate + 1;
        }
        var final = HoldoutMse(inputs, targets, hold);
        EliteIndices = Enumerable.Range(0, E).OrderBy(e => final[e]).Take(Options.Elites).ToArray();
        LastGradNormMax = normMax;
        return (epoch, final);
    }

    /// <summary>Inputs [s, a] (n, in) and targets [r, s' − s] (n, out) from a buffer.</summary>
    (float[] Inputs, float[] Targets) Dataset(ReplayBuffer data)
    {
        int n = data.Count;
        var inputs = new float[n * InDim]; var targets = new float[n * OutDim];
        var one = new Batch(1, ObsDim, ActDim);
        for (int i = 0; i < n; i++)
        {
            data.CopyTo(i, one, 0);
            one.Obs.CopyTo(inputs, i * InDim); one.Actions.CopyTo(inputs, i * InDim + ObsDim);
            targets[i * OutDim] = one.Rewards[0];
            for (int j = 0; j < ObsDim; j++) targets[i * OutDim + 1 + j] = one.NextObs[j] - one.Obs[j];
        }
        return (inputs, targets);
    }

    void FitNormaliser(float[] inputs, int n)
    {
        var m = inMean.F32; var s = inStd.F32;
        for (int j = 0; j < InDim; j++)
        {
            double sum = 0, sq = 0;
            for (int i = 0; i < n; i++) { double v = inputs[i * InDim + j]; sum += v; sq += v * v; }
            double mu = sum / n, sd = Math.Sqrt(Math.Max(0, sq / n - mu * mu));
            m[j] = (float)mu; s[j] = sd < 1e-12 ? 1f : (float)sd;
        }
    }

    void Normalise(ReadOnlySpan<float> x, Span<float> dst)
    {
        var m = inMean.F32; var s = inStd.F32;
        for (int j = 0; j < InDim; j++) dst[j] = (x[j] - m[j]) / s[j];
    }

    /// <summary>Mean squared error of each member's mean prediction on the rows <paramref name="rows"/>.</summary>
    double[] HoldoutMse(float[] inputs, float[] targets, int[] rows)
    {
        int E = Options.Members, H = rows.Length;
        var mse = new double[E];
        if (H == 0) { Array.Fill(mse, double.MaxValue); return mse; }
        using var _ = Autograd.NoGrad();
        var x = Tensor.Zeros(E, H, InDim);
        for (int i = 0; i < H; i++) Normalise(inputs.AsSpan(rows[i] * InDim, InDim), x.F32.Slice(i * InDim, InDim));
        for (int e = 1; e < E; e++) x.F32[..(H * InDim)].CopyTo(x.F32.Slice(e * H * InDim, H * InDim));
        var mean = Host(Forward(Up(x)).Mean).F32;
        for (int e = 0; e < E; e++)
        {
            double acc = 0;
            for (int i = 0; i < H; i++)
                for (int j = 0; j < OutDim; j++) { double d = mean[(e * H + i) * OutDim + j] - targets[rows[i] * OutDim + j]; acc += d * d; }
            mse[e] = acc / (H * OutDim);
        }
        return mse;
    }

    /// <summary>Samples r and s' for n rows of (s, a): each row uses a random elite and draws from its
    /// Gaussian (all members run in one batched forward; the elite's row is picked).</summary>
    public void Predict(ReadOnlySpan<float> obs, ReadOnlySpan<float> actions, int n, Rng rng, Span<float> nextObs, Span<float> rewards)
    {
        int E = Options.Members;
        using var _ = Autograd.NoGrad();
        var x = Tensor.Zeros(E, n, InDim);
        var xs = x.F32;
        Span<float> row = stackalloc float[InDim];
        for (int i = 0; i < n; i++)
        {
            obs.Slice(i * ObsDim, ObsDim).CopyTo(row); actions.Slice(i * ActDim, ActDim).CopyTo(row[ObsDim..]);
            Normalise(row, xs.Slice(i * InDim, InDim));
        }
        for (int e = 1; e < E; e++) xs[..(n * InDim)].CopyTo(xs.Slice(e * n * InDim, n * InDim));
        var (mean, lv) = Forward(Up(x));
        var md = Host(mean).F32; var ld = Host(lv).F32;
        for (int i = 0; i < n; i++)
        {
            int e = EliteIndices[rng.NextInt(EliteIndices.Length)];
            int o = (e * n + i) * OutDim;
            double noise = Options.Loss == WorldModelLoss.L2 ? 0 : 1;   // an L2 model has no variance to sample
            rewards[i] = (float)(md[o] + noise * Math.Exp(0.5 * ld[o]) * rng.Normal());
            for (int j = 0; j < ObsDim; j++)
                nextObs[i * ObsDim + j] = obs[i * ObsDim + j] + (float)(md[o + 1 + j] + noise * Math.Exp(0.5 * ld[o + 1 + j]) * rng.Normal());
        }
    }

    /// <summary>Each member's mean prediction on its own rows, no sampling (MPC's planner): obs (E·n, ObsDim) and
    /// actions (E·n, ActDim) with member e reading rows e·n … e·n + n − 1; writes s + mean Δs and the mean r there.</summary>
    public void PredictMeans(ReadOnlySpan<float> obs, ReadOnlySpan<float> actions, int n, Span<float> nextObs, Span<float> rewards)
    {
        int E = Options.Members;
        using var _ = Autograd.NoGrad();
        var x = Tensor.Zeros(E, n, InDim);
        var xs = x.F32;
        Span<float> row = stackalloc float[InDim];
        for (int i = 0; i < E * n; i++)
        {
            obs.Slice(i * ObsDim, ObsDim).CopyTo(row); actions.Slice(i * ActDim, ActDim).CopyTo(row[ObsDim..]);
            Normalise(row, xs.Slice(i * InDim, InDim));
        }
        var md = Host(Forward(Up(x)).Mean).F32;
        for (int i = 0; i < E * n; i++)
        {
            rewards[i] = md[i * OutDim];
            for (int j = 0; j < ObsDim; j++) nextObs[i * ObsDim + j] = obs[i * ObsDim + j] + md[i * OutDim + 1 + j];
        }
    }

    public void WriteState(BinaryWriter w) { w.Write(EliteIndices.Length); foreach (var e in EliteIndices) w.Write(e); }
    public void ReadState(BinaryReader r)
    {
        var elites = new int[StateReader.Count(r, "model_elites", 4, exact: Math.Min(Options.Elites, Options.Members))];
        for (int i = 0; i < elites.Length; i++)
        {
            elites[i] = r.ReadInt32();
            if (elites[i] < 0 || elites[i] >= Options.Members)
                throw new InvalidDataException($"field 'model_elites': member {elites[i]} is outside 0..{Options.Members - 1}.");
        }
        EliteIndices = elites;
    }

    /// <summary>Gradient-check case of the whole loss (Gaussian NLL with learned bounds, the bound
    /// penalty and L2) on a 3-member, 2-layer model, through inputs and every parameter.</summary>
    public static IEnumerable<GradCase> Cases()
    {
        yield return new GradCase("world_model_loss", "E3 x(3,4,3) 3-6-6-(2·3)", (rng, dt) =>
        {
            var wm = new WorldModel(2, 1, rng, new WorldModelOptions { Members = 3, Elites = 2, Hidden = 6, HiddenLayers = 2, WeightDecay = [0.1, 0.2, 0.3] }, dt);
            // bounds near the raw outputs so both softplus branches carry gradient
            Init.Constant(wm.maxLogVar, 0.3); Init.Constant(wm.minLogVar, -0.4);
            var x = Tensor.Uniform(rng, [3, 4, 3], -1, 1, dt).RequireGrad();
            var y = Tensor.Uniform(rng, [3, 4, 3], -1, 1, dt);
            return new GradProblem([x, .. wm.Store.Parameters], () => wm.Loss(x, y));
        });
    }
}
