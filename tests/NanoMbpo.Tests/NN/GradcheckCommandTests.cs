// `nanombpo gradcheck`'s core: every row passes, the last line is "N passed, 0 failed", and the
// filter selects rows. (The full catalog also runs one test per case in Core/GradCheckTests.cs.)
using NanoMbpo.Trainer.Commands;
using Xunit;

namespace NanoMbpo.Tests.NN;

public class GradcheckCommandTests
{
    [Fact]
    public void ModuleAndAdamRowsPassAndSummaryIsLast()
    {
        var sw = new StringWriter();
        var (passed, failed) = GradcheckCommand.Run(sw, "nn_mlp");
        var lines = sw.ToString().TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(0, failed);
        Assert.Equal(4, passed);
        Assert.Equal("4 passed, 0 failed", lines[^1]);
        Assert.Equal(6, lines.Length);   // header + 4 rows + summary
        Assert.All(lines[1..^1], l => Assert.EndsWith("pass", l));

        sw = new StringWriter();
        (passed, failed) = GradcheckCommand.Run(sw, "adam");
        Assert.Equal((4, 0), (passed, failed));
        Assert.Contains("adamw_f32_simd_closed_form", sw.ToString());
    }

    [Fact]
    public void AWrongBackwardIsCountedAsFailed()
    {
        // y = 3x with a backward that returns 2·dy: the row must say FAIL and the summary count it.
        var bad = new GradCase("nn_zz_wrong_backward", "(4)", (rng, dt) =>
        {
            var x = Tensor.Uniform(rng, [4], -1, 1, dt).RequireGrad();
            return new GradProblem([x], () =>
            {
                var y = Tensor.Zeros(x.Shape, dt);
                for (int i = 0; i < 4; i++) y.F64[i] = 3 * x.F64[i];
                return Autograd.Record(y, "wrong", dy => { for (int i = 0; i < 4; i++) x.GradData<double>()[i] += 2 * dy.F64[i]; }, x);
            });
        });
        var sw = new StringWriter();
        var (passed, failed) = GradcheckCommand.Run(sw, "nn_zz", [bad]);
        Assert.Equal((0, 1), (passed, failed));
        var text = sw.ToString();
        Assert.Contains("FAIL", text);
        Assert.EndsWith("0 passed, 1 failed", text.TrimEnd());
    }

    [Fact]
    public void CatalogListsEveryModule()
    {
        var names = GradCatalog.All().Select(c => c.Name).ToList();
        foreach (var prefix in new[] { "nn_linear", "nn_layernorm", "nn_embedding", "nn_dropout", "nn_mlp_relu", "nn_mha_bert",
                                       "nn_mha_torch", "nn_encoder_layer_bert", "nn_encoder_layer_torch_preln", "nn_encoder_preln" })
            Assert.Contains(names, n => n.StartsWith(prefix, StringComparison.Ordinal));
    }
}
