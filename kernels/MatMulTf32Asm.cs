// Inline PTX of the TF32 SGEMM (kernels/MatMulTf32.cs): the kernel-declared accumulator registers,
// the 16 mma.sync variants (one per accumulator tile, register names must be literal) and the
// epilogue copy out of those registers. Tested through Kernels.MatMulTf32Tests and PtxCompileTests.
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
    const string DeclareAcc = ".reg .f32 tcacc<64>; mov.f32 tcacc0, 0f00000000; mov.f32 tcacc1, 0f00000000; mov.f32 tcacc2, 0f00000000; mov.f32 tcacc3, 0f00000000; mov.f32 tcacc4, 0f00000000; mov.f32 tcacc5, 0f00000000; mov.f32 tcacc6, 0f00000000; mov.f32 tcacc7, 0f00000000; mov.f32 tcacc8, 0f00000000; mov.f32 tcacc9, 0f00000000; mov.f32 tcacc10, 0f00000000; mov.f32 tcacc11, 0f00000000; mov.f32 tcacc12, 0f00000000; mov.f32 tcacc13, 0f00000000; mov.f32 tcacc14, 0f00000000; mov.f32 tcacc15, 0f00000000; mov.f32 tcacc16, 0f00000000; mov.f32 tcacc17, 0f00000000; mov.f32 tcacc18, 0f00000000; mov.f32 tcacc19, 0f00000000; mov.f32 tcacc20, 0f00000000; mov.f32 tcacc21, 0f00000000; mov.f32 tcacc22, 0f00000000; mov.f32 tcacc23, 0f00000000; mov.f32 tcacc24, 0f00000000; mov.f32 tcacc25, 0f00000000; mov.f32 tcacc26, 0f00000000; mov.f32 tcacc27, 0f00000000; mov.f32 tcacc28, 0f00000000; mov.f32 tcacc29, 0f00000000; mov.f32 tcacc30, 0f00000000; mov.f32 tcacc31, 0f00000000; mov.f32 tcacc32, 0f00000000; mov.f32 tcacc33, 0f00000000; mov.f32 tcacc34, 0f00000000; mov.f32 tcacc35, 0f00000000; mov.f32 tcacc36, 0f00000000; mov.f32 tcacc37, 0f00000000; mov.f32 tcacc38, 0f00000000; mov.f32 tcacc39, 0f00000000; mov.f32 tcacc40, 0f00000000; mov.f32 tcacc41, 0f00000000; mov.f32 tcacc42, 0f00000000; mov.f32 tcacc43, 0f00000000; mov.f32 tcacc44, 0f00000000; mov.f32 tcacc45, 0f00000000; mov.f32 tcacc46, 0f00000000; mov.f32 tcacc47, 0f00000000; mov.f32 tcacc48, 0f00000000; mov.f32 tcacc49, 0f00000000; mov.f32 tcacc50, 0f00000000; mov.f32 tcacc51, 0f00000000; mov.f32 tcacc52, 0f00000000; mov.f32 tcacc53, 0f00000000; mov.f32 tcacc54, 0f00000000; mov.f32 tcacc55, 0f00000000; mov.f32 tcacc56, 0f00000000; mov.f32 tcacc57, 0f00000000; mov.f32 tcacc58, 0f00000000; mov.f32 tcacc59, 0f00000000; mov.f32 tcacc60, 0f00000000; mov.f32 tcacc61, 0f00000000; mov.f32 tcacc62, 0f00000000; mov.f32 tcacc63, 0f00000000;";

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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Frag4 ReadAcc(int t)
    {
        uint x0 = 0, x1 = 0, x2 = 0, x3 = 0;
        switch (t)
        {
            case 0: CudaAsm.Emit("mov.b32 %0, tcacc0;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc1;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc2;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc3;", out x3); break;
            case 1: CudaAsm.Emit("mov.b32 %0, tcacc4;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc5;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc6;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc7;", out x3); break;
            case 2: CudaAsm.Emit("mov.b32 %0, tcacc8;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc9;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc10;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc11;", out x3); break;
            case 3: CudaAsm.Emit("mov.b32 %0, tcacc12;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc13;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc14;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc15;", out x3); break;
            case 4: CudaAsm.Emit("mov.b32 %0, tcacc16;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc17;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc18;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc19;", out x3); break;
            case 5: CudaAsm.Emit("mov.b32 %0, tcacc20;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc21;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc22;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc23;", out x3); break;
            case 6: CudaAsm.Emit("mov.b32 %0, tcacc24;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc25;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc26;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc27;", out x3); break;
            case 7: CudaAsm.Emit("mov.b32 %0, tcacc28;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc29;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc30;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc31;", out x3); break;
            case 8: CudaAsm.Emit("mov.b32 %0, tcacc32;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc33;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc34;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc35;", out x3); break;
            case 9: CudaAsm.Emit("mov.b32 %0, tcacc36;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc37;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc38;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc39;", out x3); break;
            case 10: CudaAsm.Emit("mov.b32 %0, tcacc40;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc41;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc42;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc43;", out x3); break;
            case 11: CudaAsm.Emit("mov.b32 %0, tcacc44;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc45;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc46;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc47;", out x3); break;
            case 12: CudaAsm.Emit("mov.b32 %0, tcacc48;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc49;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc50;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc51;", out x3); break;
            case 13: CudaAsm.Emit("mov.b32 %0, tcacc52;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc53;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc54;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc55;", out x3); break;
            case 14: CudaAsm.Emit("mov.b32 %0, tcacc56;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc57;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc58;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc59;", out x3); break;
            case 15: CudaAsm.Emit("mov.b32 %0, tcacc60;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc61;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc62;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc63;", out x3); break;
        }
        return new Frag4 { X0 = Interop.IntAsFloat(x0), X1 = Interop.IntAsFloat(x1), X2 = Interop.IntAsFloat(x2), X3 = Interop.IntAsFloat(x3) };
    }
}
