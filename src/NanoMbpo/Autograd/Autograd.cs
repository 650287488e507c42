// Reverse-mode autograd over a dynamic tape: each op output that needs a gradient records a Node
// (its inputs, the versions of the tensors it saved and a hand-derived backward closure). Backward()
// orders the graph topologically from the root and runs the closures in reverse, accumulating into
// input gradients. Nodes, their input arrays and the sort's list, set and stack are reused (per
// thread), so a warmed-up training step records its tape without allocating them again.
// Saved tensors are versioned: a node notes the storage version of its inputs and output when
// recorded; if one was modified in place before backward reaches the node, backward throws, naming
// the op and the tensor (torch's "modified by an inplace operation").
// Tested by tests/NanoMbpo.Tests/Core/AutogradTests.cs and by every gradient check.
namespace NanoMbpo;

/// <summary>One recorded op: its inputs, the storage versions it saw, and the closure that, given
/// dL/d(output), adds dL/d(input) into each input's gradient.</summary>
internal sealed class Node
{
    public string Op = "";
    public Tensor[] Inputs = [];
    public Action<Tensor> Backward = static _ => { };
    public int[] Versions = [];   // Inputs' versions, then the output's
    public int OutputVersion;

    [ThreadStatic] static Stack<Node>?[]? pools;   // by input count 1..4

    internal static Node Rent(string op, Action<Tensor> backward, int inputCount)
    {
        var pool = inputCount <= 4 ? (pools ??= new Stack<Node>?[5])[inputCount] ??= new Stack<Node>() : null;
        var n = pool is { Count: > 0 } ? pool.Pop() : new Node { Inputs = new Tensor[inputCount], Versions = new int[inputCount] };
        n.Op = op; n.Backward = backward;
        return n;
    }

    /// <summary>Back to this thread's pool once backward has run (the graph is freed).</summary>
    internal void Return()
    {
        Backward = static _ => { };
        int c = Inputs.Length;
        if (c > 4) return;
        Array.Clear(Inputs);
        var pool = (pools ??= new Stack<Node>?[5])[c] ??= new Stack<Node>();
        if (pool.Count < 4096) pool.Push(this);
    }

    /// <summary>Throws when a tensor this op saved was modified in place after it was recorded.</summary>
    internal void CheckVersions(Tensor output)
    {
        for (int i = 0; i < Inputs.Length; i++)
            if (Inputs[i].Version != Versions[i]) throw Modified(Inputs[i], $"input {i}", Versions[i]);
        if (output.Version != OutputVersion) throw Modified(output, "output", OutputVersion);
    }

    InvalidOperationException Modified(Tensor t, string which, int saved) => new(
        $"backward of '{Op}': its {which} {t} was modified in place after the forward pass (version {t.Version}, saved at version {saved}); " +
        "the gradient would be wrong. Clone the tensor before modifying it, or run the update after backward.");
}

public static class Autograd
{
    [ThreadStatic] static int noGradDepth;

    /// <summary>False inside a <see cref="NoGrad"/> scope: ops then record nothing.</summary>
    public static bool IsEnabled => noGradDepth == 0;

    /// <summary>`using (Autograd.NoGrad()) { ... }` runs ops without recording them.</summary>
    public static NoGradScope NoGrad() { noGradDepth++; return new NoGradScope(); }

    public readonly struct NoGradScope : IDisposable
    {
        public void Dispose() => noGradDepth--;
    }

    // Links the output to its inputs when any of them needs a gradient. Every op calls this once with
    // its backward closure and returns the output. The fixed-arity overloads build no params array
    // when nothing is recorded (inference under no-grad).
    internal static Tensor Record(Tensor output, string op, Action<Tensor> backward, Tensor a)
    {
        if (!IsEnabled || !a.RequiresGrad) return output;
        var n = Node.Rent(op, backward, 1);
        n.Inputs[0] = a;
        return Link(output, n);
    }

    internal static Tensor Record(Tensor output, string op, Action<Tensor> backward, Tensor a, Tensor b)
    {
        if (!IsEnabled || !(a.RequiresGrad || b.RequiresGrad)) return output;
        var n = Node.Rent(op, backward, 2);
        n.Inputs[0] = a; n.Inputs[1] = b;
        return Link(output, n);
    }

    internal static Tensor Record(Tensor output, string op, Action<Tensor> backward, Tensor a, Tensor b, Tensor c)
    {
        if (!IsEnabled || !(a.RequiresGrad || b.RequiresGrad || c.RequiresGrad)) return output;
        var n = Node.Rent(op, backward, 3);
        n.Inputs[0] = a; n.Inputs[1] = b; n.Inputs[2] = c;
        return Link(output, n);
    }

    internal static Tensor Record(Tensor output, string op, Action<Tensor> backward, params Tensor[] inputs)
    {
        if (!IsEnabled) return output;
        foreach (var x in inputs)
        {
            if (!x.RequiresGrad) continue;
            var n = Node.Rent(op, backward, inputs.Length);
            inputs.CopyTo(n.Inputs, 0);
            return Link(output, n);
        }
        return output;
    }

    static Tensor Link(Tensor output, Node n)
    {
        for (int i = 0; i < n.Inputs.Length; i++) n.Versions[i] = n.Inputs[i].Version;
        n.OutputVersion = output.Version;
        output.RequiresGrad = true;
        output.Node = n;
        return output;
    }
}

public sealed partial class Tensor
{
    /// <summary>Back-propagates from this tensor. With no argument the tensor must hold one element
    /// (a loss) and is seeded with 1; otherwise <paramref name="gradient"/> is dL/d(this).
    /// The graph is freed afterwards (as torch does without retain_graph); leaf gradients accumulate.</summary>
    public void Backward(Tensor? gradient = null)
    {
        if (!RequiresGrad) throw new InvalidOperationException($"Backward() on {this}, which does not require a gradient.");
        if (gradient is null)
        {
            if (Length != 1) throw new InvalidOperationException($"Backward() without a gradient needs a one-element tensor, got {this}.");
            gradient = Full(Shape, 1.0, DType).To(Device);
        }
        else if (!ShapeUtil.Same(gradient.Shape, Shape) || gradient.DType != DType)
            throw new ArgumentException($"gradient {gradient} does not match {this}.", nameof(gradient));
        else if (gradient.Device != Device)
            throw new ArgumentException($"Backward: gradient {gradient} is on {gradient.Device} but {this} is on {Device}.", nameof(gradient));

        var sort = SortStorage.Rent();
        try
        {
            var order = TopologicalOrder(this, sort);
            AccumulateInto(this, gradient);
            try
            {
                for (int i = order.Count - 1; i >= 0; i--)
                {
                    var t = order[i];
                    if (t.Node is null || t.Grad is null) continue;
                    t.Node.CheckVersions(t);
                    t.Node.Backward(t.Grad);
                }
            }
            finally
            {
                // Free the graph (also after a failed backward, so nothing half-run is replayed);
                // intermediate gradients are not kept (leaves keep theirs).
                foreach (var t in order)
                {
                    if (t.Node is null) continue;
                    var n = t.Node;
                    t.Node = null;
                    t.Grad = null;
                    t.RequiresGrad = false;
                    n.Return();
                }
            }
        }
        finally { sort.Return(); }
    }

    static void AccumulateInto(Tensor t, Tensor g)
    {
        if (!t.Device.IsCpu) { Dev.Accumulate(t, g); return; }
        switch (t.DType)
        {
            case DType.F32: Cpu.Vec.AddInPlace(t.GradData<float>(), g.F32); break;
            case DType.F64: Cpu.Vec.AddInPlace(t.GradData<double>(), g.F64); break;
            default: throw new InvalidOperationException($"{t}: integer tensors have no gradient.");
        }
    }

    /// <summary>The sort's working storage, kept per thread and reused by the next backward.</summary>
    sealed class SortStorage
    {
        [ThreadStatic] static SortStorage? cached;
        public readonly List<Tensor> Order = [];
        public readonly HashSet<Tensor> Visited = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<(Tensor T, int Next)> Stack = new();

        public static SortStorage Rent()
        {
            var s = cached ?? new SortStorage();   // a backward started inside a backward gets its own
            cached = null;
            return s;
        }
        public void Return()
        {
            Order.Clear(); Visited.Clear(); Stack.Clear();
            cached = this;
        }
    }

    /// <summary>Post-order DFS (iterative, so deep graphs cannot overflow the stack): inputs before outputs.</summary>
    static List<Tensor> TopologicalOrder(Tensor root, SortStorage s)
    {
        var (order, visited, stack) = (s.Order, s.Visited, s.Stack);
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.Node?.Inputs;
            if (inputs is not null && next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var x = inputs[next];
                if (x.RequiresGrad && visited.Add(x)) stack.Push((x, 0));
                continue;
            }
            order.Add(t);
        }
        return order;
    }
}
