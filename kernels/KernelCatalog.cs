// KernelCatalog: every kernel of this assembly, found by reflection, and its sm_90 PTX from ILGPU's
// PTX backend (no GPU or driver needed). A kernel is a public static void method of a *Kernels class
// taking at least one ArrayView; it is implicitly grouped when its first parameter is an Index1D/2D/3D.
// Generic kernels (UnaryForward<TOp>) are instantiated with every struct of this assembly meeting the
// constraints. Used by `nanombpo ptx` (dump PTX for ptxas -v / reading) and the PTX compile tests.
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace NanoMbpo.Kernels;

public static class KernelCatalog
{
    /// <summary>(kernel, explicitly grouped?) for every kernel, generic ones instantiated.</summary>
    public static IReadOnlyList<(MethodInfo Kernel, bool Explicit)> All()
    {
        var asm = typeof(KernelCatalog).Assembly;
        var structs = asm.GetTypes().Where(t => t.IsValueType && !t.IsGenericTypeDefinition && t.IsPublic).ToArray();
        var list = new List<(MethodInfo, bool)>();
        foreach (var type in asm.GetTypes().Where(t => t.IsClass && t.IsPublic && t.Name.EndsWith("Kernels", StringComparison.Ordinal)).OrderBy(t => t.Name))
        {
            foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Static).OrderBy(m => m.Name))
            {
                var ps = m.GetParameters();
                if (m.ReturnType != typeof(void) || !ps.Any(p => IsView(p.ParameterType))) continue;
                bool isExplicit = ps.Length == 0 || !IsIndex(ps[0].ParameterType);
                if (!m.IsGenericMethodDefinition) { list.Add((m, isExplicit)); continue; }
                // Every combination of structs meeting each type parameter's constraints.
                IEnumerable<Type[]> combos = [[]];
                foreach (var arg in m.GetGenericArguments())
                {
                    var constraints = arg.GetGenericParameterConstraints();
                    var fits = structs.Where(s => constraints.All(c => c.IsAssignableFrom(s))).OrderBy(s => s.Name).ToArray();
                    combos = combos.SelectMany(c => fits.Select(f => (Type[])[.. c, f])).ToList();
                }
                foreach (var combo in combos)
                {
                    try { list.Add((m.MakeGenericMethod(combo), isExplicit)); }
                    catch (ArgumentException) { } // a constraint the check above cannot see (e.g. new())
                }
            }
        }
        return list;
    }

    static bool IsView(Type t) => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ArrayView<>);
    static bool IsIndex(Type t) => t == typeof(Index1D) || t == typeof(Index2D) || t == typeof(Index3D);

    /// <summary>Display name: Type.Method or Type.Method[TOp].</summary>
    public static string Name(MethodInfo m) =>
        $"{m.DeclaringType!.Name}.{m.Name}" + (m.IsGenericMethod ? $"[{string.Join(",", m.GetGenericArguments().Select(a => a.Name))}]" : "");

    /// <summary>Compiles each kernel to PTX for sm_90 and returns (name, PTX or null, error or null).</summary>
    public static IEnumerable<(string Name, string? Ptx, string? Error)> CompilePtx(OptimizationLevel level = OptimizationLevel.O1)
    {
        using var context = Context.Create(b => b.EnableAlgorithms().Optimize(level));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        foreach (var (kernel, isExplicit) in All())
        {
            var entry = isExplicit
                ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel)
                : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
            string? ptx = null, error = null;
            try { ptx = ((PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly; }
            catch (Exception e) { error = $"{e.GetType().Name}: {e.Message}"; }
            yield return (Name(kernel), ptx, error);
        }
    }
}
