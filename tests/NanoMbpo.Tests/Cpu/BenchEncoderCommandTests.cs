// `nanombpo bench encoder`: a tiny run prints the bytes-per-call line and ends with "seq/s", whose
// rate is calls/s times the batch; --train times the training step; bad arguments are named.
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace NanoMbpo.Tests.Cpu;

[Collection("Console")]
public class BenchEncoderCommandTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PrintsRateAndAllocation(bool train)
    {
        string[] args = ["bench", "encoder", "--layers", "1", "--hidden", "16", "--heads", "2", "--ffn", "32", "--batch", "3", "--seq", "5",
                         "--threads", "1", "--seconds", "0.05", "--rounds", "1", .. train ? new[] { "--train" } : []];
        var (code, stdout, err) = Cli.Run(args);
        Assert.True(code == 0, err);
        var lines = stdout.Trim().Split('\n');
        Assert.Matches(@"^allocated per call after warm-up: \d+ bytes", lines[^2]);
        var m = Regex.Match(lines[^1], @"(inference|train step \(AdamW\)): ([\d.]+) calls/s, ([\d.]+) seq/s$");
        Assert.True(m.Success, lines[^1]);
        Assert.Equal(train ? "train step (AdamW)" : "inference", m.Groups[1].Value);
        double calls = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), seqs = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        Assert.True(calls > 0);
        Assert.Equal(calls * 3, seqs, 0.11);   // both printed with one decimal
    }

    [Theory]
    [InlineData("--hidden", "15", "--heads")]   // 15 is not a multiple of 2 heads
    [InlineData("--threads", "0", "--threads")]
    [InlineData("--seq", "-1", "--seq")]
    [InlineData("--seconds", "0", "--seconds")]
    public void BadArgumentsAreNamed(string option, string value, string named)
    {
        // Each option once: a repeated option is a parse error of its own and would hide the check under test.
        string[] args = ["bench", "encoder", "--heads", "2", .. option == "--hidden" ? [] : new[] { "--hidden", "16" }, option, value, .. option == "--seconds" ? [] : new[] { "--seconds", "0.01" }];
        var (code, stdout, err) = Cli.Run(args);
        Assert.NotEqual(0, code);
        Assert.Contains(named, stdout + err);
    }
}
