using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Compile;

/// <summary>
/// A kernel's work in element operations, for deciding whether it is worth a parallel loop of its own:
/// the elements it reads and writes (most kernels are bound by moving them), plus, for the kernels
/// bound by arithmetic (matmul, attention), their multiply-adds counted per 8-lane vector, since one
/// vector FMA costs about what moving one element does. Only the order of magnitude matters.
/// </summary>
public static class KernelWork
{
    private const int VectorLanes = 8;

    /// <param name="elements">The elements of the kernel's input and output tensors, summed.</param>
    public static long Estimate(KernelSpec spec, long elements) => elements + spec switch
    {
        OpKernelSpec { Op: OpCode.MatMul } matmul => MultiplyAdds(matmul) / VectorLanes,
        // Q·Kᵀ and P·V; a causal mask skips about half of the keys. The backward forms five such products.
        AttentionSpec a => a.BatchHeads * a.Queries * a.Keys * a.Width * 2 / (a.Causal ? 2 : 1) / VectorLanes,
        AttentionBackwardSpec a => a.BatchHeads * a.Queries * a.Keys * a.Width * 5 / (a.Causal ? 2 : 1) / VectorLanes,
        _ => 0,
    };

    private static long MultiplyAdds(OpKernelSpec matmul)
    {
        var a = matmul.Inputs[0].Shape;
        long k = matmul.Attrs.TransposeA ? a[^2] : a[^1];
        return matmul.Output.Elements * k;
    }
}
