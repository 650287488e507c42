// Compiles every kernel to PTX for sm_90 (H100) with ILGPU's PTX backend, which needs no GPU or
// driver: on CPU-only CI this catches constructs the CUDA backend rejects (the CPU accelerator runs
// .NET code and accepts more). EveryKernelCompilesToPtxForSm90 compiles every kernel KernelCatalog
// discovers, so a new kernel is covered without editing this file. It does not launch anything; the
// CudaFact variants do that on a GPU.
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class PtxCompileTests
{
    static MethodInfo M(Type t, string name, params Type[] generic)
    {
        var m = t.GetMethod(name, BindingFlags.Public | BindingFlags.Static)
            ?? throw new InvalidOperationException($"{t.Name}.{name} not found");
        return generic.Length > 0 ? m.MakeGenericMethod(generic) : m;
    }

    /// <summary>(kernel, explicitly grouped?) for every kernel the launchers load.</summary>
    static IEnumerable<(MethodInfo Kernel, bool Explicit)> Kernels()
    {
        Type[] unary = [typeof(ReluOp), typeof(GeluOp), typeof(TanhOp), typeof(SigmoidOp), typeof(SiluOp),
            typeof(SoftplusOp), typeof(ExpOp), typeof(LogOp)];
        foreach (var op in unary)
        {
            yield return (M(typeof(ElementwiseKernels), nameof(ElementwiseKernels.UnaryForward), op), false);
            yield return (M(typeof(ElementwiseKernels), nameof(ElementwiseKernels.UnaryBackward), op), false);
        }
        foreach (var op in new[] { typeof(AddOp), typeof(SubOp), typeof(MulOp), typeof(DivOp) })
        {
            yield return (M(typeof(ElementwiseKernels), nameof(ElementwiseKernels.BinaryForward), op), false);
            yield return (M(typeof(ElementwiseKernels), nameof(ElementwiseKernels.BinaryBackwardA), op), false);
            yield return (M(typeof(ElementwiseKernels), nameof(ElementwiseKernels.BinaryBackwardB), op), false);
        }
        yield return (M(typeof(BiasAddKernels), nameof(BiasAddKernels.Forward)), false);
        yield return (M(typeof(ReduceKernels), nameof(ReduceKernels.SumLastAxis)), true);
        yield return (M(typeof(ReduceKernels), nameof(ReduceKernels.MaxLastAxis)), true);
        yield return (M(typeof(ReduceKernels), nameof(ReduceKernels.SumLastAxisBackward)), false);
        yield return (M(typeof(ReduceKernels), nameof(ReduceKernels.MaxLastAxisBackward)), false);
        yield return (M(typeof(ReduceKernels), nameof(ReduceKernels.ColumnSum)), false);
        yield return (M(typeof(SoftmaxKernels), nameof(SoftmaxKernels.Forward)), true);
        yield return (M(typeof(SoftmaxKernels), nameof(SoftmaxKernels.Backward)), true);
        yield return (M(typeof(LayerNormKernels), nameof(LayerNormKernels.Forward)), true);
        yield return (M(typeof(LayerNormKernels), nameof(LayerNormKernels.BackwardInput)), true);
        yield return (M(typeof(LayerNormKernels), nameof(LayerNormKernels.BackwardParams)), false);
        yield return (M(typeof(LayerNormKernels), nameof(LayerNormKernels.BackwardParamsPartial)), true);
        // Register-row kernels: every layout at the largest slot count (most registers), and every
        // slot count for the forward kernels the benchmarks time.
        var rowKernels = new[] { (typeof(SoftmaxKernels), nameof(SoftmaxKernels.ForwardRows)),
            (typeof(SoftmaxKernels), nameof(SoftmaxKernels.BackwardRows)), (typeof(LayerNormKernels), nameof(LayerNormKernels.ForwardRows)),
            (typeof(LayerNormKernels), nameof(LayerNormKernels.BackwardInputRows)) };
        foreach (var (type, name) in rowKernels)
            foreach (var layout in new[] { typeof(WarpRowsVector), typeof(WarpRowsScalar), typeof(GroupRowVector), typeof(GroupRowScalar) })
                yield return (M(type, name, typeof(RowSlots8), layout), true);
        foreach (var (type, name) in rowKernels.Where(k => k.Item2.StartsWith("Forward", StringComparison.Ordinal)))
            foreach (var slots in new[] { typeof(RowSlots1), typeof(RowSlots2), typeof(RowSlots3), typeof(RowSlots4), typeof(RowSlots6) })
                yield return (M(type, name, slots, typeof(WarpRowsVector)), true);
        yield return (M(typeof(MatMulKernels), nameof(MatMulKernels.Sgemm)), true);
        foreach (var (layout, shape) in TiledVariants())
            yield return (M(typeof(MatMulKernels), nameof(MatMulKernels.SgemmTiled), layout, shape), true);
        yield return (M(typeof(AttentionKernels), nameof(AttentionKernels.Forward)), true);
        yield return (M(typeof(AttentionKernels), nameof(AttentionKernels.FlashForward)), true);
        yield return (M(typeof(AttentionKernels), nameof(AttentionKernels.FlashForward32)), true);
        yield return (M(typeof(AttentionKernels), nameof(AttentionKernels.FlashForwardWide)), true);
        yield return (M(typeof(AttentionKernels), nameof(AttentionKernels.RowDot)), false);
        yield return (M(typeof(AttentionKernels), nameof(AttentionKernels.BackwardQuery)), true);
        yield return (M(typeof(AttentionKernels), nameof(AttentionKernels.BackwardKeyValue)), true);
        yield return (M(typeof(AttentionKernels), nameof(AttentionKernels.FlashBackwardQuery)), true);
        yield return (M(typeof(AttentionKernels), nameof(AttentionKernels.FlashBackwardKeyValue)), true);
        yield return (M(typeof(EmbeddingKernels), nameof(EmbeddingKernels.Forward)), false);
        yield return (M(typeof(EmbeddingKernels), nameof(EmbeddingKernels.Backward)), false);
        yield return (M(typeof(GatherKernels), nameof(GatherKernels.Forward)), false);
        yield return (M(typeof(GatherKernels), nameof(GatherKernels.Backward)), false);
        yield return (M(typeof(SliceKernels), nameof(SliceKernels.Copy)), false);
        yield return (M(typeof(AdamKernels), nameof(AdamKernels.Step)), false);
        yield return (M(typeof(PolyakKernels), nameof(PolyakKernels.Update)), false);
        yield return (M(typeof(RandomKernels), nameof(RandomKernels.Uniform)), false);
        yield return (M(typeof(RandomKernels), nameof(RandomKernels.Normal)), false);
    }

    static IEnumerable<(Type Layout, Type Shape)> TiledVariants() =>
        from l in new[] { typeof(GemmNN), typeof(GemmNT), typeof(GemmTN), typeof(GemmTT) }
        from s in new[] { typeof(Gemm128x128), typeof(Gemm128x64), typeof(Gemm64x64) }
        select (l, s);

    /// <summary>The fast SGEMM's PTX keeps its 8x8 accumulators in registers (no .local memory), reads
    /// shared memory as float4 (4 per k-step, 8 k-steps unrolled = 32 per K-tile) and does the
    /// 8 x 64 multiply-adds of a K-tile as straight-line code (ptxas fuses ILGPU's mul + add).</summary>
    [Fact]
    public void SgemmTiledPtxIsVectorisedAndSpillFree()
    {
        using var context = Context.Create(b => b.EnableAlgorithms().Optimize(OptimizationLevel.O1));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        foreach (var (layout, shape) in TiledVariants())
        {
            var kernel = M(typeof(MatMulKernels), nameof(MatMulKernels.SgemmTiled), layout, shape);
            var ptx = ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel),
                KernelSpecialization.Empty)).PTXAssembly;
            string what = $"SgemmTiled<{layout.Name},{shape.Name}>";
            Assert.False(ptx.Contains(".local"), $"{what}: local memory in PTX");
            Assert.Equal(32, Count(ptx, "ld.shared.v4.f32"));
            Assert.True(Count(ptx, "mul.f32") >= 512, $"{what}: {Count(ptx, "mul.f32")} mul.f32, expected the 512 of an unrolled K-tile");
            Assert.True(Count(ptx, "ld.v4.f32") >= 2, $"{what}: no float4 global loads");
        }
    }

    /// <summary>The TF32 kernel uses no .local memory at all (ILGPU's EmitRef used to route every mma
    /// operand through it, and Emit outputs the epilogue's copies), has its two k-steps unrolled and
    /// float4 global loads, for every transpose.</summary>
    [Fact]
    public void SgemmTf32MmaLoopHasNoLocalMemory()
    {
        using var context = Context.Create(b => b.EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        foreach (var layout in new[] { typeof(GemmNN), typeof(GemmNT), typeof(GemmTN), typeof(GemmTT) })
        {
            var kernel = M(typeof(MatMulTf32Kernels), nameof(MatMulTf32Kernels.Sgemm)).MakeGenericMethod(layout);
            var ptx = ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel),
                KernelSpecialization.Empty)).PTXAssembly;
            int first = ptx.IndexOf("mma.sync", StringComparison.Ordinal);
            Assert.True(first >= 0, "no mma.sync in the TF32 kernel's PTX");
            Assert.Equal(32, Count(ptx, "mma.sync")); // 2 k-steps x 16 tiles per K-tile, unrolled
            // Accumulators stay in PTX registers from the first mma through the epilogue's stores.
            Assert.False(ptx.Contains(".local"), $"{layout.Name}: local memory in PTX");
            Assert.True(Count(ptx, "ld.v4.f32") + Count(ptx, "ld.global.v4.f32") >= 2, $"{layout.Name}: no float4 global loads");
        }
    }

    static int Count(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>`nanombpo ptx` discovers kernels by reflection (KernelCatalog): it must find every
    /// kernel this hand-kept list names, with the same grouping.</summary>
    [Fact]
    public void KernelCatalogFindsEveryListedKernel()
    {
        var found = KernelCatalog.All().ToDictionary(k => k.Kernel, k => k.Explicit);
        var missing = Kernels().Where(k => !found.TryGetValue(k.Kernel, out bool e) || e != k.Explicit)
            .Select(k => KernelCatalog.Name(k.Kernel)).ToList();
        Assert.True(missing.Count == 0, "KernelCatalog misses or misgroups: " + string.Join(", ", missing));
        Assert.True(found.Count >= Kernels().Count(), $"catalog {found.Count} < list {Kernels().Count()}");
    }

    /// <summary>Every kernel KernelCatalog finds (all of NanoMbpo.Kernels, generic ones instantiated:
    /// the scalar, permute and broadcast kernels included) compiles, and so does at least one kernel of
    /// every kernel class an op descriptor names.</summary>
    [Fact]
    public void EveryKernelCompilesToPtxForSm90()
    {
        var results = KernelCatalog.CompilePtx().ToList();
        var failures = results.Where(r => r.Error is not null || !r.Ptx!.Contains(".entry", StringComparison.Ordinal))
            .Select(r => $"{r.Name}: {r.Error ?? "no .entry in the PTX"}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(KernelCatalog.All().Count, results.Count);
        var compiledClasses = results.Select(r => r.Name[..r.Name.IndexOf('.')]).ToHashSet();
        foreach (var k in new[] { nameof(ScalarKernels), nameof(PermuteKernels), nameof(BroadcastKernels) }
                     .Concat(GradCatalog.Ops().SelectMany(o => o.Kernels)))
            Assert.Contains(k, compiledClasses);
        // Every kernel the launchers are known to load (the hand list above) is among them.
        var names = results.Select(r => r.Name).ToHashSet();
        Assert.All(Kernels(), k => Assert.Contains(KernelCatalog.Name(k.Kernel), names));
    }
}
