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
    public void CatalogListsEveryModule()
    {
        var names = GradCatalog.All().Select(c => c.Name).ToList();
        foreach (var prefix in new[] { "nn_linear", "nn_layernorm", "nn_embedding", "nn_dropout", "nn_mlp_relu", "nn_mha_bert",
                                       "nn_mha_torch", "nn_encoder_layer_bert", "nn_encoder_layer_torch_preln", "nn_encoder_preln" })
            Assert.Contains(names, n => n.StartsWith(prefix, StringComparison.Ordinal));
    }
}
