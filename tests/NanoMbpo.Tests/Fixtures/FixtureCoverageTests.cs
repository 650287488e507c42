// Guards the parity suite's completeness: every committed PyTorch fixture (tests/fixtures/*.safetensors) is
// compared by a test in this folder, except the reader-only dtypes fixture (IO/FixtureFileTests), so a new
// fixture cannot land without a parity test. The mapping below names the test that consumes each fixture.
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.FixtureParity"
using Xunit;

namespace NanoMbpo.Tests.FixtureParity;

public sealed class FixtureCoverageTests
{
    static readonly Dictionary<string, string> ComparedBy = new(StringComparer.Ordinal)
    {
        ["matmul"] = nameof(OpParityTests.MatMulMatchesTorch),
        ["matmul_nt"] = nameof(OpParityTests.MatMulMatchesTorch),
        ["matmul_tn"] = nameof(OpParityTests.MatMulMatchesTorch),
        ["matmul_batched"] = nameof(OpParityTests.MatMulMatchesTorch),
        ["matmul_batched_tt"] = nameof(OpParityTests.MatMulMatchesTorch),
        ["softmax"] = nameof(OpParityTests.UnaryRowOpMatchesTorch),
        ["log_softmax"] = nameof(OpParityTests.UnaryRowOpMatchesTorch),
        ["gelu"] = nameof(OpParityTests.UnaryRowOpMatchesTorch),
        ["layer_norm"] = nameof(OpParityTests.LayerNormMatchesTorch),
        ["linear_relu"] = nameof(OpParityTests.LinearReluMatchesTorch),
        ["attention"] = nameof(OpParityTests.AttentionFixtureMatchesTorch),
        ["attention_causal_cross"] = nameof(OpParityTests.AttentionFixtureMatchesTorch),
        ["cross_entropy"] = nameof(OpParityTests.CrossEntropyMatchesTorch),
        ["gaussian_nll"] = nameof(OpParityTests.GaussianNllMatchesTorch),
        ["multihead_attention"] = nameof(ModuleParityTests.MultiHeadAttentionMatchesTorch),
        ["transformer_encoder_layer"] = nameof(ModuleParityTests.TransformerEncoderLayerMatchesTorch),
        ["elementwise_ops"] = nameof(OpFamilyParityTests.ElementwiseOpMatchesTorch),
        ["shape_index_ops"] = nameof(OpFamilyParityTests.ShapeOrIndexOpMatchesTorch),
        ["transformer_encoder_preln"] = nameof(ModuleParityTests.TransformerEncoderPreLnWithFinalNormMatchesTorch),
        ["mlp_sequential"] = nameof(ModuleParityTests.MlpMatchesTorchSequential),
        ["adam"] = nameof(OptimizerParityTests.ThreeStepsMatchTorch),
        ["adamw"] = nameof(OptimizerParityTests.ThreeStepsMatchTorch),
        ["adamw_clip"] = nameof(OptimizerParityTests.AdamWWithGradNormClippingMatchesTorch),
    };

    [Fact]
    public void EveryFixtureHasAParityTest()
    {
        var uncovered = NanoMbpo.Tests.IO.Fixtures.Names().Where(n => n != "dtypes" && !ComparedBy.ContainsKey(n)).ToArray();
        Assert.True(uncovered.Length == 0, $"fixtures with no parity test: {string.Join(", ", uncovered)}");
        var stale = ComparedBy.Keys.Where(n => !NanoMbpo.Tests.IO.Fixtures.Names().Contains(n)).ToArray();
        Assert.True(stale.Length == 0, $"parity tests name fixtures that do not exist: {string.Join(", ", stale)}");
    }
}
