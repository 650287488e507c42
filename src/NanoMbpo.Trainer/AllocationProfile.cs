// AllocationProfile: which managed types a workload allocates, from the runtime's sampled
// GCAllocationTick events (one event per ~100 KB allocated, naming the type of the object that
// crossed the threshold), so the counts are proportional to bytes. `bench encoder --alloc-profile`
// prints the table; it is a diagnostic for keeping hot paths allocation-free, never a result.
using System.Diagnostics.Tracing;

namespace NanoMbpo.Trainer;

internal sealed class AllocationProfile : EventListener
{
    readonly Dictionary<string, int> counts = [];
    bool on;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);   // GC keyword: AllocationTick
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!on || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null) return;
        int i = e.PayloadNames.IndexOf("TypeName");
        string type = i >= 0 ? e.Payload?[i]?.ToString() ?? "?" : "?";
        lock (counts) counts[type] = counts.GetValueOrDefault(type) + 1;
    }

    public void Start() => on = true;

    public void Print(TextWriter w, int top = 15)
    {
        on = false;
        lock (counts)
        {
            int total = counts.Values.Sum();
            w.WriteLine($"allocation samples (one per ~100 KB): {total}");
            foreach (var (type, n) in counts.OrderByDescending(kv => kv.Value).Take(top))
                w.WriteLine($"  {n,6} {100.0 * n / Math.Max(1, total),5:F1} %  {type}");
        }
    }
}
