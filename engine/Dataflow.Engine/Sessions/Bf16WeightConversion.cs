using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Sessions;

/// <summary>
/// <see cref="WeightStorage.Bf16"/> applied to a graph as it is compiled: every parameter that a matrix
/// product reads as its right operand (the projections, the unembedding) is handed to the backend to keep
/// as bfloat16. Biases, norms and positions stay f32: they are small and read by elementwise kernels.
/// </summary>
internal static class Bf16WeightConversion
{
    public static void Apply(StepGraph graph, ParameterStore parameters, IBackend backend)
    {
        if (graph.Gradients.Count > 0)
            throw new ConfigurationException("weights bf16 is for inference only (generate, chat, eval, bench): training updates f32 weights");
        if (backend is not IBf16Weights bf16)
            throw new ConfigurationException($"weights bf16: the {backend.Name} backend keeps weights in f32 only; use the cpu backend or weights f32");
        foreach (var node in graph.Graph.Nodes)
            if (node.Op == OpCode.MatMul && node.Inputs[1] is { Op: OpCode.Parameter } weight)
            {
                var slot = parameters.Get(weight.Attrs.Name!);
                bf16.StoreAsBf16(slot.Value);
                slot.Storage = WeightStorage.Bf16;
            }
    }
}
