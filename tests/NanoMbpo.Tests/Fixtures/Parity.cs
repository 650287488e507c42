// Shared helpers for the PyTorch-parity tests in this folder: load fixture tensors (tests/fixtures/*.safetensors,
// written by tests/fixtures/make_fixtures.py) as float32 / int32 tensors and compare our float32 results with
// torch's float64 references.
// Relative error (issue 2: forward ≤ 1e-5, gradients ≤ 1e-4, in float32) is measured per tensor in the max norm:
//   rel(ours, ref) = max_i |ours_i − ref_i| / max(max_i |ref_i|, 1e-30)
// i.e. the worst absolute deviation scaled by the tensor's largest reference magnitude, so an element that is
// near zero through cancellation is not judged by its own (meaningless) relative error, yet any element off by
// more than tol·max|ref| fails. Shapes must match exactly. ParityMetricTests proves the check bites.
// Namespace FixtureParity, not Fixtures: a namespace NanoMbpo.Tests.Fixtures would hide the IO.Fixtures class from
// every sibling namespace that imports it (name lookup finds the enclosing namespace first).
// Run: dotnet test NanoMbpo.sln -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.FixtureParity"
using NanoMbpo.IO;
using Xunit;
using Xunit.Abstractions;

namespace NanoMbpo.Tests.FixtureParity;

public static class Parity
{
    /// <summary>Forward outputs: issue 2's float32 tolerance.</summary>
    public const double ForwardTol = 1e-5;
    /// <summary>Gradients and optimizer states: issue 2's float32 tolerance.</summary>
    public const double GradTol = 1e-4;

    public static SafeTensorsFile Load(string name) => NanoMbpo.Tests.IO.Fixtures.Load(name);

    /// <summary>A fixture tensor as a float32 tensor of its stored shape (inputs are stored as F32 exactly).</summary>
    public static Tensor F32(SafeTensorsFile f, string name, bool requiresGrad = false)
    {
        var e = f[name];
        var t = Tensor.FromArray(e.ReadFloat32(allowNarrowing: true), e.ShapeArray());
        t.Name = name;
        return requiresGrad ? t.RequireGrad() : t;
    }

    /// <summary>An I64 fixture tensor (mask, targets) as an I32 tensor; values must fit.</summary>
    public static Tensor I32(SafeTensorsFile f, string name)
    {
        var e = f[name];
        var v = e.ReadInt64();
        var a = new int[v.Length];
        for (int i = 0; i < v.Length; i++)
            a[i] = v[i] is >= int.MinValue and <= int.MaxValue ? (int)v[i]
                : throw new InvalidDataException($"{f.Path}: '{name}'[{i}] = {v[i]} does not fit in int32.");
        return Tensor.FromArray(a, e.ShapeArray());
    }

    /// <summary>rel = max|a − b| / max(max|b|, 1e-30); see the file header.</summary>
    public static double RelErr(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"length {actual.Length} vs {expected.Length}.");
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            // NaN must fail: comparisons with NaN are false, so route it explicitly.
            maxDiff = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(maxDiff, d);
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }
        return maxDiff / Math.Max(maxRef, 1e-30);
    }

    /// <summary>Asserts <paramref name="actual"/> matches fixture tensor <paramref name="refName"/> (shape and
    /// values within <paramref name="tol"/>), logs the error, and returns it.</summary>
    public static double AssertClose(SafeTensorsFile f, string refName, Tensor? actual, double tol, ITestOutputHelper? log, string? label = null)
    {
        string what = $"{f.Metadata["fixture"]}/{label ?? refName}";
        Assert.True(actual is not null, $"{what}: our result is null (no gradient reached it?)");
        var e = f[refName];
        Assert.True(e.ShapeArray().AsSpan().SequenceEqual(actual!.Shape),
            $"{what}: our shape {actual.ShapeString} differs from torch's {ShapeUtil.Format(e.ShapeArray())}");
        return AssertClose(what, actual.ToDoubleArray(), e.ReadFloat64(), tol, log);
    }

    public static double AssertClose(string what, double[] actual, double[] expected, double tol, ITestOutputHelper? log)
    {
        double rel = RelErr(actual, expected);
        log?.WriteLine($"{what,-48} rel {rel:E2} (tol {tol:E0})");
        if (!(rel <= tol))
        {
            int worst = 0;
            for (int i = 1; i < actual.Length; i++)
                if (!(Math.Abs(actual[i] - expected[i]) <= Math.Abs(actual[worst] - expected[worst]))) worst = i;
            Assert.Fail($"{what}: relative error {rel:E3} exceeds {tol:E0}; worst at flat index {worst}: ours {actual[worst]:R}, torch {expected[worst]:R}");
        }
        return rel;
    }
}
