// Inline PTX of the TF32 SGEMM (kernels/MatMulTf32.cs): the kernel-declared accumulator registers,
// the 16 mma.sync variants (one per accumulator tile, register names must be literal) and the
// epilogue stores straight from those registers. Tested through Kernels.MatMulTf32Tests and PtxCompileTests.
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace NanoMbpo.Kernels;

public static partial class MatMulTf32Kernels
{
    /// <summary>On CUDA the 64 accumulator floats of a lane live in PTX registers tcacc0..63 declared
    /// by the kernel itself (tile t = 4i + j owns tcacc[4t..4t+3]): ILGPU's multi-output EmitRef would
    /// route every mma operand through .local memory, while an Emit with inputs only keeps them in
    /// registers. <see cref="ReadAcc"/> copies a tile out once, for the epilogue.</summary>
    const string DeclareAcc = ".reg .f32 tcacc<64>; .reg .f32 tcv<2>; mov.f32 tcacc0, 0f00000000; mov.f32 tcacc1, 0f00000000; mov.f32 tcacc2, 0f00000000; mov.f32 tcacc3, 0f00000000; mov.f32 tcacc4, 0f00000000; mov.f32 tcacc5, 0f00000000; mov.f32 tcacc6, 0f00000000; mov.f32 tcacc7, 0f00000000; mov.f32 tcacc8, 0f00000000; mov.f32 tcacc9, 0f00000000; mov.f32 tcacc10, 0f00000000; mov.f32 tcacc11, 0f00000000; mov.f32 tcacc12, 0f00000000; mov.f32 tcacc13, 0f00000000; mov.f32 tcacc14, 0f00000000; mov.f32 tcacc15, 0f00000000; mov.f32 tcacc16, 0f00000000; mov.f32 tcacc17, 0f00000000; mov.f32 tcacc18, 0f00000000; mov.f32 tcacc19, 0f00000000; mov.f32 tcacc20, 0f00000000; mov.f32 tcacc21, 0f00000000; mov.f32 tcacc22, 0f00000000; mov.f32 tcacc23, 0f00000000; mov.f32 tcacc24, 0f00000000; mov.f32 tcacc25, 0f00000000; mov.f32 tcacc26, 0f00000000; mov.f32 tcacc27, 0f00000000; mov.f32 tcacc28, 0f00000000; mov.f32 tcacc29, 0f00000000; mov.f32 tcacc30, 0f00000000; mov.f32 tcacc31, 0f00000000; mov.f32 tcacc32, 0f00000000; mov.f32 tcacc33, 0f00000000; mov.f32 tcacc34, 0f00000000; mov.f32 tcacc35, 0f00000000; mov.f32 tcacc36, 0f00000000; mov.f32 tcacc37, 0f00000000; mov.f32 tcacc38, 0f00000000; mov.f32 tcacc39, 0f00000000; mov.f32 tcacc40, 0f00000000; mov.f32 tcacc41, 0f00000000; mov.f32 tcacc42, 0f00000000; mov.f32 tcacc43, 0f00000000; mov.f32 tcacc44, 0f00000000; mov.f32 tcacc45, 0f00000000; mov.f32 tcacc46, 0f00000000; mov.f32 tcacc47, 0f00000000; mov.f32 tcacc48, 0f00000000; mov.f32 tcacc49, 0f00000000; mov.f32 tcacc50, 0f00000000; mov.f32 tcacc51, 0f00000000; mov.f32 tcacc52, 0f00000000; mov.f32 tcacc53, 0f00000000; mov.f32 tcacc54, 0f00000000; mov.f32 tcacc55, 0f00000000; mov.f32 tcacc56, 0f00000000; mov.f32 tcacc57, 0f00000000; mov.f32 tcacc58, 0f00000000; mov.f32 tcacc59, 0f00000000; mov.f32 tcacc60, 0f00000000; mov.f32 tcacc61, 0f00000000; mov.f32 tcacc62, 0f00000000; mov.f32 tcacc63, 0f00000000;";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void MmaRegs(int t, Frag4 a, Frag4 b)
    {
        uint a0 = Interop.FloatAsInt(a.X0), a1 = Interop.FloatAsInt(a.X1), a2 = Interop.FloatAsInt(a.X2), a3 = Interop.FloatAsInt(a.X3);
        uint b0 = Interop.FloatAsInt(b.X0), b1 = Interop.FloatAsInt(b.X1);
        switch (t)
        {
            case 0: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc0, tcacc1, tcacc2, tcacc3}, {%0, %1, %2, %3}, {%4, %5}, {tcacc0, tcacc1, tcacc2, tcacc3};", a0, a1, a2, a3, b0, b1); break;
            case 1: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc4, tcacc5, tcacc6, tcacc7}, {%0, %1, %2, %3}, {%4, %5}, {tcacc4, tcacc5, tcacc6, tcacc7};", a0, a1, a2, a3, b0, b1); break;
            case 2: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc8, tcacc9, tcacc10, tcacc11}, {%0, %1, %2, %3}, {%4, %5}, {tcacc8, tcacc9, tcacc10, tcacc11};", a0, a1, a2, a3, b0, b1); break;
            case 3: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc12, tcacc13, tcacc14, tcacc15}, {%0, %1, %2, %3}, {%4, %5}, {tcacc12, tcacc13, tcacc14, tcacc15};", a0, a1, a2, a3, b0, b1); break;
            case 4: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc16, tcacc17, tcacc18, tcacc19}, {%0, %1, %2, %3}, {%4, %5}, {tcacc16, tcacc17, tcacc18, tcacc19};", a0, a1, a2, a3, b0, b1); break;
            case 5: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc20, tcacc21, tcacc22, tcacc23}, {%0, %1, %2, %3}, {%4, %5}, {tcacc20, tcacc21, tcacc22, tcacc23};", a0, a1, a2, a3, b0, b1); break;
            case 6: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc24, tcacc25, tcacc26, tcacc27}, {%0, %1, %2, %3}, {%4, %5}, {tcacc24, tcacc25, tcacc26, tcacc27};", a0, a1, a2, a3, b0, b1); break;
            case 7: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc28, tcacc29, tcacc30, tcacc31}, {%0, %1, %2, %3}, {%4, %5}, {tcacc28, tcacc29, tcacc30, tcacc31};", a0, a1, a2, a3, b0, b1); break;
            case 8: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc32, tcacc33, tcacc34, tcacc35}, {%0, %1, %2, %3}, {%4, %5}, {tcacc32, tcacc33, tcacc34, tcacc35};", a0, a1, a2, a3, b0, b1); break;
            case 9: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc36, tcacc37, tcacc38, tcacc39}, {%0, %1, %2, %3}, {%4, %5}, {tcacc36, tcacc37, tcacc38, tcacc39};", a0, a1, a2, a3, b0, b1); break;
            case 10: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc40, tcacc41, tcacc42, tcacc43}, {%0, %1, %2, %3}, {%4, %5}, {tcacc40, tcacc41, tcacc42, tcacc43};", a0, a1, a2, a3, b0, b1); break;
            case 11: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc44, tcacc45, tcacc46, tcacc47}, {%0, %1, %2, %3}, {%4, %5}, {tcacc44, tcacc45, tcacc46, tcacc47};", a0, a1, a2, a3, b0, b1); break;
            case 12: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc48, tcacc49, tcacc50, tcacc51}, {%0, %1, %2, %3}, {%4, %5}, {tcacc48, tcacc49, tcacc50, tcacc51};", a0, a1, a2, a3, b0, b1); break;
            case 13: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc52, tcacc53, tcacc54, tcacc55}, {%0, %1, %2, %3}, {%4, %5}, {tcacc52, tcacc53, tcacc54, tcacc55};", a0, a1, a2, a3, b0, b1); break;
            case 14: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc56, tcacc57, tcacc58, tcacc59}, {%0, %1, %2, %3}, {%4, %5}, {tcacc56, tcacc57, tcacc58, tcacc59};", a0, a1, a2, a3, b0, b1); break;
            case 15: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc60, tcacc61, tcacc62, tcacc63}, {%0, %1, %2, %3}, {%4, %5}, {tcacc60, tcacc61, tcacc62, tcacc63};", a0, a1, a2, a3, b0, b1); break;
        }
    }

    /// <summary>Epilogue on CUDA: C at the generic address <paramref name="at"/> = alpha·tcacc[reg]
    /// (+ beta·C when beta ≠ 0, so that C is not read otherwise), straight from the PTX register:
    /// copying the accumulators out through an Emit output would go through .local memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreReg(int reg, ulong at, float alpha, float beta)
    {
        if (beta == 0f)
        {
            switch (reg)
            {
                case 0: CudaAsm.Emit("mul.f32 tcv0, tcacc0, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 1: CudaAsm.Emit("mul.f32 tcv0, tcacc1, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 2: CudaAsm.Emit("mul.f32 tcv0, tcacc2, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 3: CudaAsm.Emit("mul.f32 tcv0, tcacc3, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 4: CudaAsm.Emit("mul.f32 tcv0, tcacc4, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 5: CudaAsm.Emit("mul.f32 tcv0, tcacc5, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 6: CudaAsm.Emit("mul.f32 tcv0, tcacc6, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 7: CudaAsm.Emit("mul.f32 tcv0, tcacc7, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 8: CudaAsm.Emit("mul.f32 tcv0, tcacc8, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 9: CudaAsm.Emit("mul.f32 tcv0, tcacc9, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 10: CudaAsm.Emit("mul.f32 tcv0, tcacc10, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 11: CudaAsm.Emit("mul.f32 tcv0, tcacc11, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 12: CudaAsm.Emit("mul.f32 tcv0, tcacc12, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 13: CudaAsm.Emit("mul.f32 tcv0, tcacc13, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 14: CudaAsm.Emit("mul.f32 tcv0, tcacc14, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 15: CudaAsm.Emit("mul.f32 tcv0, tcacc15, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 16: CudaAsm.Emit("mul.f32 tcv0, tcacc16, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 17: CudaAsm.Emit("mul.f32 tcv0, tcacc17, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 18: CudaAsm.Emit("mul.f32 tcv0, tcacc18, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 19: CudaAsm.Emit("mul.f32 tcv0, tcacc19, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 20: CudaAsm.Emit("mul.f32 tcv0, tcacc20, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 21: CudaAsm.Emit("mul.f32 tcv0, tcacc21, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 22: CudaAsm.Emit("mul.f32 tcv0, tcacc22, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 23: CudaAsm.Emit("mul.f32 tcv0, tcacc23, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 24: CudaAsm.Emit("mul.f32 tcv0, tcacc24, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 25: CudaAsm.Emit("mul.f32 tcv0, tcacc25, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 26: CudaAsm.Emit("mul.f32 tcv0, tcacc26, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 27: CudaAsm.Emit("mul.f32 tcv0, tcacc27, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 28: CudaAsm.Emit("mul.f32 tcv0, tcacc28, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 29: CudaAsm.Emit("mul.f32 tcv0, tcacc29, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 30: CudaAsm.Emit("mul.f32 tcv0, tcacc30, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 31: CudaAsm.Emit("mul.f32 tcv0, tcacc31, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 32: CudaAsm.Emit("mul.f32 tcv0, tcacc32, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 33: CudaAsm.Emit("mul.f32 tcv0, tcacc33, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 34: CudaAsm.Emit("mul.f32 tcv0, tcacc34, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 35: CudaAsm.Emit("mul.f32 tcv0, tcacc35, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 36: CudaAsm.Emit("mul.f32 tcv0, tcacc36, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 37: CudaAsm.Emit("mul.f32 tcv0, tcacc37, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 38: CudaAsm.Emit("mul.f32 tcv0, tcacc38, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 39: CudaAsm.Emit("mul.f32 tcv0, tcacc39, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 40: CudaAsm.Emit("mul.f32 tcv0, tcacc40, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 41: CudaAsm.Emit("mul.f32 tcv0, tcacc41, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 42: CudaAsm.Emit("mul.f32 tcv0, tcacc42, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 43: CudaAsm.Emit("mul.f32 tcv0, tcacc43, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 44: CudaAsm.Emit("mul.f32 tcv0, tcacc44, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 45: CudaAsm.Emit("mul.f32 tcv0, tcacc45, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 46: CudaAsm.Emit("mul.f32 tcv0, tcacc46, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 47: CudaAsm.Emit("mul.f32 tcv0, tcacc47, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 48: CudaAsm.Emit("mul.f32 tcv0, tcacc48, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 49: CudaAsm.Emit("mul.f32 tcv0, tcacc49, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 50: CudaAsm.Emit("mul.f32 tcv0, tcacc50, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 51: CudaAsm.Emit("mul.f32 tcv0, tcacc51, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 52: CudaAsm.Emit("mul.f32 tcv0, tcacc52, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 53: CudaAsm.Emit("mul.f32 tcv0, tcacc53, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 54: CudaAsm.Emit("mul.f32 tcv0, tcacc54, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 55: CudaAsm.Emit("mul.f32 tcv0, tcacc55, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 56: CudaAsm.Emit("mul.f32 tcv0, tcacc56, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 57: CudaAsm.Emit("mul.f32 tcv0, tcacc57, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 58: CudaAsm.Emit("mul.f32 tcv0, tcacc58, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 59: CudaAsm.Emit("mul.f32 tcv0, tcacc59, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 60: CudaAsm.Emit("mul.f32 tcv0, tcacc60, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 61: CudaAsm.Emit("mul.f32 tcv0, tcacc61, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 62: CudaAsm.Emit("mul.f32 tcv0, tcacc62, %1; st.f32 [%0], tcv0;", at, alpha); break;
                case 63: CudaAsm.Emit("mul.f32 tcv0, tcacc63, %1; st.f32 [%0], tcv0;", at, alpha); break;
            }
        }
        else
        {
            switch (reg)
            {
                case 0: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc0, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 1: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc1, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 2: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc2, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 3: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc3, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 4: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc4, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 5: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc5, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 6: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc6, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 7: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc7, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 8: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc8, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 9: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc9, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 10: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc10, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 11: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc11, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 12: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc12, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 13: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc13, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 14: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc14, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 15: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc15, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 16: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc16, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 17: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc17, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 18: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc18, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 19: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc19, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 20: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc20, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 21: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc21, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 22: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc22, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 23: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc23, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 24: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc24, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 25: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc25, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 26: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc26, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 27: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc27, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 28: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc28, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 29: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc29, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 30: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc30, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 31: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc31, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 32: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc32, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 33: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc33, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 34: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc34, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 35: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc35, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 36: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc36, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 37: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc37, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 38: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc38, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 39: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc39, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 40: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc40, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 41: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc41, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 42: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc42, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 43: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc43, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 44: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc44, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 45: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc45, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 46: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc46, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 47: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc47, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 48: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc48, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 49: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc49, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 50: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc50, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 51: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc51, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 52: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc52, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 53: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc53, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 54: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc54, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 55: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc55, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 56: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc56, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 57: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc57, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 58: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc58, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 59: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc59, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 60: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc60, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 61: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc61, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 62: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc62, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
                case 63: CudaAsm.Emit("ld.f32 tcv1, [%0]; mul.f32 tcv0, tcacc63, %1; fma.rn.f32 tcv0, tcv1, %2, tcv0; st.f32 [%0], tcv0;", at, alpha, beta); break;
            }
        }
    }
}
