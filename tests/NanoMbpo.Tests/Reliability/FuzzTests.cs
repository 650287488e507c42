// Property-based fuzzing with CsCheck of every parser registered in FuzzTargets (a parser added there is fuzzed
// here without edits): mutated valid files (CsCheck generates and shrinks the mutation lists) and random bytes.
// Property (FuzzRunner.Check): a valid result or the parser's own format exception naming the file; never another
// exception type, a hang or an allocation beyond the input size. Bounded for CI (Iterations per target); long
// campaigns: `nanombpo fuzz --target NAME --seconds S`. Every crashing input found so far is replayed from
// FuzzRegressions/ (file name: target-hash.bin). The oracle itself is tested on parsers that misbehave on purpose.
using CsCheck;
using NanoMbpo.Trainer.Fuzz;
using Xunit;
using Xunit.Abstractions;

namespace NanoMbpo.Tests.Reliability;

public sealed class FuzzTests(ITestOutputHelper log)
{
    public const int MutatedIterations = 1500, RandomIterations = 300;

    public static TheoryData<string> Targets() => new(FuzzTargets.Names);

    static readonly Gen<Mutation> GenMutation = Gen.Select(Gen.Byte, Gen.Int, Gen.Int, Gen.Int, (k, a, b, c) => new Mutation(k, a, b, c));

    static void Pass(FuzzTarget t, byte[] input, string scratch)
    {
        if (FuzzRunner.Check(t, input, scratch) is { } failure) throw new Xunit.Sdk.XunitException($"{t.Name}: {failure}");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void MutatedValidFilesGiveAResultOrTheOwnFormatError(string name)
    {
        var t = FuzzTargets.Get(name);
        var seeds = t.Seeds();
        string scratch = FuzzRunner.Scratch(t);
        Gen.Select(Gen.Int, GenMutation.Array[0, 6])
            .Sample((seed, mutations) => Pass(t, Mutator.Apply(seeds, seed, mutations), scratch), iter: MutatedIterations, threads: 1);
        log.WriteLine($"{name}: {MutatedIterations} mutated inputs passed");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void RandomBytesGiveAResultOrTheOwnFormatError(string name)
    {
        var t = FuzzTargets.Get(name);
        string scratch = FuzzRunner.Scratch(t);
        Gen.Byte.Array[0, 600].Sample(bytes => Pass(t, bytes, scratch), iter: RandomIterations, threads: 1);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedsAreValidFiles(string name)
    {
        var t = FuzzTargets.Get(name);
        string scratch = FuzzRunner.Scratch(t);
        var seeds = t.Seeds();
        Assert.NotEmpty(seeds);
        foreach (var s in seeds) t.Run(s, scratch); // no exception at all: mutations start from valid files
    }

    [Fact]
    public void RegressionInputsPass()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Reliability", "FuzzRegressions");
        var files = Directory.GetFiles(dir, "*.bin");
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            string stem = Path.GetFileNameWithoutExtension(file);
            var t = FuzzTargets.Get(stem[..stem.LastIndexOf('-')]);
            Pass(t, File.ReadAllBytes(file), FuzzRunner.Scratch(t));
        }
    }

    [Fact]
    public void TheOracleCatchesForeignExceptionsUnnamedFilesHangsAndLengthDrivenAllocations()
    {
        FuzzTarget Fake(Action<byte[], string> run) => new("fake", "", () => [[]], run, e => e is InvalidDataException);
        Assert.Null(FuzzRunner.Check(Fake((_, s) => throw new InvalidDataException($"{s}: bad field 'x'")), []));
        Assert.Contains("foreign exception", FuzzRunner.Check(Fake((_, _) => throw new IndexOutOfRangeException()), []));
        Assert.Contains("does not name the file", FuzzRunner.Check(Fake((_, _) => throw new InvalidDataException("bad")), []));
        Assert.Contains("allocated", FuzzRunner.Check(Fake((b, _) => GC.KeepAlive(new byte[BitConverter.ToInt32(b) ])), BitConverter.GetBytes(64 << 20)));
        var old = FuzzRunner.Limit;
        FuzzRunner.Limit = TimeSpan.FromMilliseconds(200);
        try { Assert.Contains("hang", FuzzRunner.Check(Fake((_, _) => Thread.Sleep(1000)), [])); }
        finally { FuzzRunner.Limit = old; }
    }

    [Fact]
    public void MutatorCoversEveryKindAndStaysWithinBounds()
    {
        var seeds = new List<byte[]> { "{\"a\": [1, 2, 3]}"u8.ToArray(), Array.Empty<byte>() };
        for (int k = 0; k < Mutation.Kinds; k++)
            foreach (int a in new[] { 0, 5, -1, int.MaxValue, int.MinValue })
            {
                var bytes = Mutator.Apply(seeds, a, [new Mutation((byte)k, a, a ^ 7, a + 3)]);
                Assert.True(bytes.Length < 100_000, $"{(MutationKind)k} grew the input to {bytes.Length} bytes");
            }
        Assert.NotEqual(seeds[0], Mutator.Apply(seeds, 0, [new Mutation((byte)MutationKind.BitFlip, 0, 0, 0)]));
    }
}
