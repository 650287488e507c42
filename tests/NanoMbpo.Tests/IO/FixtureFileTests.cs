// Loads every PyTorch reference fixture with our reader and checks it holds exactly the tensors, dtypes and
// shapes that tests/fixtures/README.md lists; that our writer re-encodes each file byte for byte (the script
// mimics the reference layout); torch's F16/BF16 encodings decode to torch's own widenings; and, with plain
// double loops, that the documented conventions hold (loss = sum(out * r), masked keys, Adam closed form).
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.IO"
using System.Text.RegularExpressions;
using NanoMbpo.IO;
using Xunit;

namespace NanoMbpo.Tests.IO;

public sealed partial class FixtureFileTests
{
    private sealed record Row(string Name, string DType, int[] Shape);

    [GeneratedRegex(@"^### `(?<file>[\w.]+)\.safetensors`\s*$")]
    private static partial Regex FileHeading();

    [GeneratedRegex(@"^\| `(?<name>[^`]+)` \| (?<dtype>\w+) \| \((?<shape>[\d,]*)\) \| (?<role>\w+) \|\s*$")]
    private static partial Regex TableRow();

    /// <summary>README tables: fixture name -> rows, in README order.</summary>
    private static Dictionary<string, List<Row>> ReadmeTables()
    {
        var tables = new Dictionary<string, List<Row>>(StringComparer.Ordinal);
        List<Row>? current = null;
        var lines = File.ReadAllLines(Path.Combine(Fixtures.Directory, "README.md"));
        for (int i = 0; i < lines.Length; i++)
        {
            if (FileHeading().Match(lines[i]) is { Success: true } h)
            {
                current = [];
                Assert.True(tables.TryAdd(h.Groups["file"].Value, current), $"README.md line {i + 1}: file listed twice");
            }
            else if (TableRow().Match(lines[i]) is { Success: true } r)
            {
                Assert.True(current is not null, $"README.md line {i + 1}: table row before any file heading");
                var shape = r.Groups["shape"].Value.Length == 0 ? [] : r.Groups["shape"].Value.Split(',').Select(int.Parse).ToArray();
                current!.Add(new Row(r.Groups["name"].Value, r.Groups["dtype"].Value, shape));
            }
        }
        return tables;
    }

    public static TheoryData<string> FixtureNames() => new(Fixtures.Names());

    [Fact]
    public void ReadmeListsExactlyTheFixtureFiles()
    {
        var listed = ReadmeTables().Keys.Order(StringComparer.Ordinal);
        Assert.Equal(Fixtures.Names(), listed);
        Assert.True(Fixtures.Names().Length >= 16, "expected at least 16 fixture files");
        long total = Fixtures.Names().Sum(n => new FileInfo(Path.Combine(Fixtures.Directory, n + ".safetensors")).Length);
        Assert.True(total < 200_000, $"fixtures total {total} bytes; keep them under 200 KB");
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void FixtureMatchesReadmeTable(string name)
    {
        var rows = ReadmeTables()[name];
        var file = Fixtures.Load(name);
        Assert.Equal(rows.Select(r => r.Name).Order(StringComparer.Ordinal), file.Entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        foreach (var row in rows)
        {
            var entry = file[row.Name];
            Assert.True(row.DType == entry.DType.ToString(), $"{name}/{row.Name}: README says {row.DType}, file has {entry.DType}");
            Assert.True(row.Shape.SequenceEqual(entry.Shape), $"{name}/{row.Name}: README says ({string.Join(",", row.Shape)}), file has {entry}");
        }
        Assert.Equal(name, file.Metadata["fixture"]);
        Assert.True(int.TryParse(file.Metadata["seed"], out _), $"{name}: metadata seed is not an integer");
        // Every stored float must be finite, or a comparison against it would prove nothing.
        foreach (var e in file.Entries.Where(e => SafeTensorsDTypes.IsFloatingPoint(e.DType)))
            Assert.True(e.ReadFloat64().All(double.IsFinite), $"{name}/{e.Name} holds a non-finite value");
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void OurWriterReencodesFixtureByteForByte(string name)
    {
        var path = Path.Combine(Fixtures.Directory, name + ".safetensors");
        var file = SafeTensorsFile.Read(path);
        var writer = new SafeTensorsWriter();
        foreach (var e in file.Entries) writer.AddRaw(e.Name, e.DType, e.ShapeArray(), e.ReadBytes());
        foreach (var (k, v) in file.Metadata) writer.Metadata[k] = v;
        Assert.Equal(File.ReadAllBytes(path), writer.ToArray());
    }

    [Fact]
    public void TorchHalfAndBFloat16DecodeToTorchsWidening()
    {
        var file = Fixtures.Load("dtypes");
        foreach (var kind in new[] { "f16", "bf16" })
        {
            var expected = file[kind + "_as_f64"].ReadFloat64();
            Assert.Equal(expected, file[kind].ReadFloat32().Select(x => (double)x));
            Assert.Equal(expected, file[kind].ReadFloat64());
        }
        Assert.Equal(new[] { int.MinValue, -1, 0, int.MaxValue }, file["i32"].ReadInt32());
        Assert.Equal(new[] { long.MinValue, (1L << 53) + 1, 42 }, file["i64"].ReadInt64());
        Assert.Equal(new long[] { 0, 1, 255 }, file["u8"].ReadInt64());
        Assert.Equal(new long[] { 1, 0, 1 }, file["mask"].ReadInt64());
    }

    [Theory]
    [InlineData("matmul", false, false)]
    [InlineData("matmul_nt", false, true)]
    [InlineData("matmul_tn", true, false)]
    public void MatmulFixtureFollowsTheSumOutTimesRConvention(string name, bool transA, bool transB)
    {
        // Naive float64 loops: out = op(a) op(b); dA = r op(b)^T; dB = op(a)^T r (transposed back when stored so).
        var f = Fixtures.Load(name);
        double[] a = f["a"].ReadFloat64(), b = f["b"].ReadFloat64(), r = f["r"].ReadFloat64();
        int m = f["out"].Shape[0], n = f["out"].Shape[1], k = transA ? f["a"].Shape[0] : f["a"].Shape[1];
        double A(int i, int p) => transA ? a[p * m + i] : a[i * k + p];
        double B(int p, int j) => transB ? b[j * k + p] : b[p * n + j];
        var outRef = new double[m * n];
        var da = new double[a.Length];
        var db = new double[b.Length];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++)
                {
                    outRef[i * n + j] += A(i, p) * B(p, j);
                    da[transA ? p * m + i : i * k + p] += r[i * n + j] * B(p, j);
                    db[transB ? j * k + p : p * n + j] += A(i, p) * r[i * n + j];
                }
        AssertClose(outRef, f["out"].ReadFloat64(), $"{name}/out");
        AssertClose(da, f["da"].ReadFloat64(), $"{name}/da");
        AssertClose(db, f["db"].ReadFloat64(), $"{name}/db");
    }

    [Fact]
    public void AttentionFixtureGivesPaddedKeysNoWeight()
    {
        var f = Fixtures.Load("attention");
        var mask = f["key_padding_mask"].ReadInt64();   // (B,T)
        var attn = f["attn"].ReadFloat64();             // (B,NH,T,T)
        var dk = f["dk"].ReadFloat64();                 // (B,NH,T,HS)
        const int B = 2, NH = 2, T = 5, HS = 4;
        Assert.Contains(1L, mask);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int i = 0; i < T; i++)
                {
                    var row = attn.AsSpan(((b * NH + h) * T + i) * T, T);
                    Assert.Equal(1.0, row.ToArray().Sum(), 12);
                    for (int j = 0; j < T; j++)
                        if (mask[b * T + j] == 1)
                        {
                            Assert.Equal(0.0, row[j]);
                            Assert.All(dk.AsSpan(((b * NH + h) * T + j) * HS, HS).ToArray(), g => Assert.Equal(0.0, g));
                        }
                }
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void AdamFixtureMatchesTheDocumentedClosedForm(string name)
    {
        var f = Fixtures.Load(name);
        double lr = double.Parse(f.Metadata["lr"]), b1 = double.Parse(f.Metadata["beta1"]), b2 = double.Parse(f.Metadata["beta2"]);
        double eps = double.Parse(f.Metadata["eps"]), wd = double.Parse(f.Metadata["weight_decay"]);
        var p = f["param0"].ReadFloat64();
        var m = new double[p.Length];
        var v = new double[p.Length];
        for (int t = 1; t <= 3; t++)
        {
            var g = f[$"grad{t}"].ReadFloat64();
            for (int i = 0; i < p.Length; i++)
            {
                p[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                p[i] -= lr * (m[i] / (1 - Math.Pow(b1, t))) / (Math.Sqrt(v[i] / (1 - Math.Pow(b2, t))) + eps);
            }
            AssertClose(p, f[$"param{t}"].ReadFloat64(), $"{name}/param{t}");
        }
        AssertClose(m, f["exp_avg3"].ReadFloat64(), $"{name}/exp_avg3");
        AssertClose(v, f["exp_avg_sq3"].ReadFloat64(), $"{name}/exp_avg_sq3");
    }

    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 + 1e-10 * Math.Abs(expected[i]),
                $"{what}[{i}]: expected {expected[i]:R}, fixture has {actual[i]:R}");
    }
}
