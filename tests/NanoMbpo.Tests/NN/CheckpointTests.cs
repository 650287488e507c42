// Checkpoints: save/load round trip of a whole model (bit-exact), clear errors for a missing key, an
// unexpected key and a shape mismatch (store untouched after a failed load), prefix mapping, and the
// Adam state round trip continuing exactly as an uninterrupted run.
using NanoMbpo.NN;
using NanoMbpo.Optim;
using Xunit;

namespace NanoMbpo.Tests.NN;

public sealed class CheckpointTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nanombpo-ckpt-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (ParameterStore, TransformerEncoder) Model(ulong seed)
    {
        var ps = new ParameterStore();
        var m = new TransformerEncoder(ps, "encoder.", new TransformerOptions(8, 2, 16) { Naming = TransformerNaming.Bert }, 1, new Rng(seed));
        return (ps, m);
    }

    [Fact]
    public void RoundTripIsExact()
    {
        var (a, _) = Model(1);
        var path = Path.Combine(dir, "m.safetensors");
        Checkpoint.Save(a, path, new Dictionary<string, string> { ["note"] = "test" });
        var (b, _) = Model(2);
        Assert.NotEqual(a.Data<float>().ToArray(), b.Data<float>().ToArray());
        var meta = Checkpoint.Load(b, path);
        Assert.Equal(a.Data<float>().ToArray(), b.Data<float>().ToArray());
        Assert.Equal("test", meta["note"]);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void ErrorsNameTheKey()
    {
        var path = Path.Combine(dir, "small.safetensors");
        var small = new ParameterStore();
        _ = new Linear(small, "fc.", 3, 4, new Rng(1));
        Checkpoint.Save(small, path);

        var wrongShape = new ParameterStore();
        var l = new Linear(wrongShape, "fc.", 3, 5, new Rng(2));
        var before = wrongShape.Data<float>().ToArray();
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(wrongShape, path));
        Assert.Contains("'fc.weight'", e.Message);
        Assert.Contains("(4,3)", e.Message); Assert.Contains("(5,3)", e.Message);
        Assert.Equal(before, wrongShape.Data<float>().ToArray());

        var extra = new ParameterStore();
        _ = new Linear(extra, "fc.", 3, 4, null);
        extra.Create("head.weight", 2);
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(extra, path));
        Assert.Contains("missing 1 key(s): 'head.weight'", e.Message);

        var fewer = new ParameterStore();
        _ = new Linear(fewer, "fc.", 3, 4, null, bias: false);
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(fewer, path));
        Assert.Contains("unexpected 1 key(s)", e.Message);
        Assert.Contains("'fc.bias'", e.Message);
        Checkpoint.Load(fewer, path, new LoadOptions(Strict: false));
        Assert.Equal(small["fc.weight"].ToFloatArray(), fewer["fc.weight"].ToFloatArray());

        var prefixed = new ParameterStore();
        _ = new Linear(prefixed, "", 3, 4, null);
        Checkpoint.Load(prefixed, path, new LoadOptions(FilePrefix: "fc."));
        Assert.Equal(small["fc.bias"].ToFloatArray(), prefixed["bias"].ToFloatArray());

        Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(small, Path.Combine(dir, "none.safetensors")));
    }

    [Fact]
    public void AdamStateRoundTripContinuesExactly()
    {
        static (ParameterStore, AdamW) Setup()
        {
            var ps = new ParameterStore();
            _ = new Mlp(ps, "", [3, 8, 2], Activation.Tanh, new Rng(5));
            return (ps, new AdamW(ps, lr: 0.01));
        }
        static void Steps(ParameterStore ps, AdamW opt, int n, int start)
        {
            for (int s = 0; s < n; s++)
            {
                foreach (var p in ps.Parameters)
                {
                    var g = p.Grad!.F32;
                    for (int i = 0; i < g.Length; i++) g[i] = MathF.Sin(i * 0.37f + p.Length + (start + s));
                }
                opt.Step();
            }
        }
        var (a, oa) = Setup();
        Steps(a, oa, 6, 0);

        var (b, ob) = Setup();
        Steps(b, ob, 3, 0);
        var mp = Path.Combine(dir, "model.safetensors"); var op = Path.Combine(dir, "opt.safetensors");
        Checkpoint.Save(b, mp); OptimizerState.Save(ob, op);
        var (c, oc) = Setup();
        Checkpoint.Load(c, mp); OptimizerState.Load(oc, op);
        Assert.Equal(3, oc.StepCount);
        Steps(c, oc, 3, 3);
        Assert.Equal(a.Data<float>().ToArray(), c.Data<float>().ToArray());

        var other = new ParameterStore(); other.Create("x", 2);
        var e = Assert.Throws<InvalidDataException>(() => OptimizerState.Load(new Adam(other), op));
        Assert.Contains("exp_avg.x", e.Message);
    }
}
