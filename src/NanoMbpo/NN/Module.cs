// Module: the base of every network building block. A module owns no arrays: it creates its
// parameters in a shared ParameterStore under a name prefix, so a whole model (and its target
// copy) is one flat buffer and parameter names are exact torch / Hugging Face state-dict keys
// (e.g. prefix "encoder.layer.0." + "attention.self.query.weight"). Train/eval mode propagates to
// children. Tested by tests/NanoMbpo.Tests/NN/ModuleTests.cs; gradient checks: catalog "nn_*".
namespace NanoMbpo.NN;

/// <summary>Which state-dict naming a transformer block uses, so both torch fixtures
/// (nn.TransformerEncoderLayer) and real BERT checkpoints load by key.</summary>
public enum TransformerNaming
{
    /// <summary>Hugging Face BERT: attention.self.query/key/value, attention.output.dense,
    /// attention.output.LayerNorm, intermediate.dense, output.dense, output.LayerNorm.</summary>
    Bert,
    /// <summary>torch.nn.TransformerEncoderLayer: self_attn.in_proj_weight/in_proj_bias,
    /// self_attn.out_proj, linear1, linear2, norm1, norm2.</summary>
    Torch,
}

public abstract class Module
{
    readonly List<Module> children = [];
    readonly List<Tensor> ownParameters = [];

    /// <summary>The store that holds this module's parameters (shared by the whole model).</summary>
    public ParameterStore Store { get; }
    /// <summary>The name prefix of every parameter this module creates (ends in '.' or is empty).</summary>
    public string Prefix { get; }
    /// <summary>Training mode (dropout active). New modules start in training mode, as in torch.</summary>
    public bool Training { get; private set; } = true;

    protected Module(ParameterStore store, string prefix)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(prefix);
        Store = store;
        Prefix = prefix;
    }

    /// <summary>Creates a (zero-filled) parameter named Prefix + <paramref name="localName"/>.</summary>
    protected Tensor Param(string localName, params int[] shape)
    {
        var p = Store.Create(Prefix + localName, shape);
        ownParameters.Add(p);
        return p;
    }

    /// <summary>Registers a child so mode changes and parameter listings reach it.</summary>
    protected TModule Child<TModule>(TModule m) where TModule : Module
    {
        if (!ReferenceEquals(m.Store, Store))
            throw new ArgumentException($"child module '{m.Prefix}' of '{Prefix}' must share the parent's ParameterStore.");
        children.Add(m);
        m.SetTraining(Training);
        return m;
    }

    /// <summary>A child's prefix: this module's prefix followed by <paramref name="name"/> and '.'.</summary>
    protected string Sub(string name) => Prefix + name + ".";

    public IReadOnlyList<Module> Children => children;

    /// <summary>All parameters of this module and its children, in creation order.</summary>
    public IEnumerable<Tensor> Parameters()
    {
        foreach (var p in ownParameters) yield return p;
        foreach (var c in children)
            foreach (var p in c.Parameters()) yield return p;
    }

    /// <summary>Number of scalar parameters in this module and its children.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Length);

    public void SetTraining(bool on)
    {
        Training = on;
        foreach (var c in children) c.SetTraining(on);
    }
    public Module Train() { SetTraining(true); return this; }
    public Module Eval() { SetTraining(false); return this; }
}

public static class ModuleExtensions
{
    /// <summary>This module and all its descendants, depth first.</summary>
    public static IEnumerable<Module> Modules(this Module m)
    {
        yield return m;
        foreach (var c in m.Children)
            foreach (var d in c.Modules()) yield return d;
    }

    /// <summary>Gives every Dropout below <paramref name="m"/> a fresh stream derived from
    /// <paramref name="seed"/> (gradient checks re-run the forward pass and need identical masks).</summary>
    public static void ReseedDropout(this Module m, ulong seed)
    {
        ulong i = 0;
        foreach (var d in m.Modules().OfType<Dropout>()) d.Rng = new Rng(seed).Fork(i++);
    }
}
