// `nanombpo bench gemm`: a tiny run reports its float64 reference check and ends with a GFLOP/s line
// that echoes the shape and threads asked for; the reference check itself catches a wrong element;
// bad arguments are named.
using System.Globalization;
using System.Text.RegularExpressions;
using NanoMbpo.Trainer.Commands;
using Xunit;

namespace NanoMbpo.Tests.Cpu;

[Collection("Console")]
public class BenchCommandTests
{
    [Fact]
    public void GemmPrintsGflopsLine()
    {
        var (code, stdout, err) = Cli.Run("bench", "gemm", "--m", "17", "--k", "9", "--n", "33", "--threads", "1", "--seconds", "0.01");
        Assert.True(code == 0, err);
        var check = Regex.Match(stdout, @"result checked against a float64 reference: max error (\S+) of sum");
        Assert.True(check.Success, stdout);
        Assert.InRange(double.Parse(check.Groups[1].Value, CultureInfo.InvariantCulture), 0, 1e-6);   // K = 9: a few ulps
        var last = Regex.Match(stdout.Trim().Split('\n')[^1], @"^sgemm NN M=17 N=33 K=9 threads=1: (\d+\.\d) GFLOP/s$");
        Assert.True(last.Success, stdout);
        Assert.True(double.Parse(last.Groups[1].Value, CultureInfo.InvariantCulture) > 0);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void ReferenceCheckMeasuresTheWorstElement(bool ta, bool tb)
    {
        const int M = 5, N = 4, K = 3;
        var rng = new Random(3);
        float[] a = Enumerable.Range(0, M * K).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, K * N).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        int lda = ta ? M : K, ldb = tb ? K : N;
        var c = new float[M * N];
        double absAt23 = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                for (int k = 0; k < K; k++)
                {
                    double p = (double)(ta ? a[k * lda + i] : a[i * lda + k]) * (tb ? b[j * ldb + k] : b[k * ldb + j]);
                    c[i * N + j] += (float)p;
                    if (i == 2 && j == 3) absAt23 += Math.Abs(p);
                }
        Assert.InRange(BenchCommand.ReferenceError(M, N, K, ta, tb, a, lda, b, ldb, c, N), 0, 1e-6);
        c[2 * N + 3] += 0.01f;
        Assert.Equal(0.01 / absAt23, BenchCommand.ReferenceError(M, N, K, ta, tb, a, lda, b, ldb, c, N), 3);
        c[0] = float.NaN;
        Assert.Equal(double.PositiveInfinity, BenchCommand.ReferenceError(M, N, K, ta, tb, a, lda, b, ldb, c, N));
    }

    /// <summary>A 1024x1024 operand is 4 MiB, numpy's huge-page threshold, so the madvise path runs.</summary>
    [LinuxFact]
    public void GemmOnHugePagesPrintsGflopsLine()
    {
        var (code, stdout, err) = Cli.Run("bench", "gemm", "--m", "1024", "--k", "1024", "--n", "8", "--threads", "1", "--seconds", "0.01", "--hugepages");
        Assert.True(code == 0, err);
        Assert.Contains("transparent huge pages", stdout);
        Assert.EndsWith("GFLOP/s", stdout.Trim());
    }

    [Theory]
    [InlineData("--device", "tpu", "--device")]
    [InlineData("--threads", "0", "--threads")]
    [InlineData("--m", "0", "--m")]
    public void BadArgumentsAreNamed(string option, string value, string named)
    {
        var (code, stdout, err) = Cli.Run("bench", "gemm", option, value, "--seconds", "0.01");
        Assert.NotEqual(0, code);
        Assert.Contains(named, stdout + err);
    }
}

/// <summary>A fact that needs Linux (madvise); elsewhere it is skipped with that reason.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "--hugepages uses madvise(MADV_HUGEPAGE), which only Linux has.";
    }
}
