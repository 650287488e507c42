// Reverse-mode autograd over a dynamic tape: each op output that needs a gradient records a Node
// (its inputs and a hand-derived backward closure). Backward() orders the graph topologically from
// the root and runs the closures in reverse, accumulating into input gradients.
// Tested by tests/NanoMbpo.Tests/Core/AutogradTests.cs and by every gradient check.
namespace NanoMbpo;

/// <summary>One recorded op: its inputs and the closure that, given dL/d(output), adds
/// dL/d(input) into each input's gradient.</summary>
internal sealed class Node(string op, Tensor[] inputs, Action<Tensor> backward)
{
    public string Op { get; } = op;
    public Tensor[] Inputs { get; } = inputs;
    public Action<Tensor> Backward { get; } = backward;
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

    /// <summary>Links <paramref name="output"/> to its inputs when any of them needs a gradient.
    /// Every op calls this once with its backward closure; returns the output for chaining.</summary>
    internal static Tensor Record(Tensor output, string op, Action<Tensor> backward, params Tensor[] inputs)
    {
        if (!IsEnabled) return output;
        foreach (var x in inputs)
        {
            if (x.RequiresGrad)
            {
                output.RequiresGrad = true;
                output.Node = new Node(op, inputs, backward);
                return output;
            }
        }
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

        var order = TopologicalOrder(this);
        AccumulateInto(this, gradient);
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            if (t.Node is null || t.Grad is null) continue;
            t.Node.Backward(t.Grad);
        }
        // Free the graph; intermediate gradients are not kept (leaves keep theirs).
        foreach (var t in order)
        {
            if (t.Node is null) continue;
            t.Node = null;
            t.Grad = null;
            t.RequiresGrad = false;
        }
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

    /// <summary>Post-order DFS (iterative, so deep graphs cannot overflow the stack): inputs before outputs.</summary>
    static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, int Next)>();
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
