// `nanombpo bench gemm`: a tiny run ends with the GFLOP/s line; bad arguments are named.
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
        Assert.EndsWith("GFLOP/s", stdout.Trim());
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
