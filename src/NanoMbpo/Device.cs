// Device: where a tensor's storage lives. The CPU SIMD path now; ILGPU accelerators (CUDA or
// ILGPU's CPU accelerator) are added by the ILGPU backend, which dispatches each op to its kernel.
namespace NanoMbpo;

public enum DeviceKind { Cpu, Cuda, IlgpuCpu }

public sealed class Device
{
    public DeviceKind Kind { get; }
    public string Name { get; }
    Device(DeviceKind kind, string name) { Kind = kind; Name = name; }
    public static readonly Device Cpu = new(DeviceKind.Cpu, "cpu");
    public bool IsCpu => Kind == DeviceKind.Cpu;
    public override string ToString() => Name;
}
