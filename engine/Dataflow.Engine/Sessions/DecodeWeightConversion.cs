using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Sessions;

/// <summary>
/// Decode copies (<see cref="IDecodeWeights"/>) made as an inference graph is compiled: every parameter that a
/// matrix product reads as its right operand (the projections, the unembedding) is handed to the backend, as
/// bf16 where the session stores its weights so (<see cref="WeightStorage.Bf16"/>), else as f32 where the
/// session asks for copies (<see cref="Compile.CompileOptions.DecodeCopies"/>). Biases, norms and positions stay
/// f32 and uncopied: they are small and read by elementwise kernels.
/// </summary>
internal static class DecodeWeightConversion
{
    /// <param name="f32Copies">Whether f32 weights get copies too (false once the session trains: see <see cref="IDecodeWeights.DropDecodeCopy"/>).</param>
    public static void Apply(StepGraph graph, ParameterStore parameters, IBackend backend, WeightStorage storage, bool f32Copies)
    {
        if (graph.Gradients.Count > 0)
        {
            if (storage == WeightStorage.Bf16) throw new ConfigurationException("weights bf16 is for inference only (generate, chat, eval, bench): training updates f32 weights");
            // The optimizer writes the weights in place, which a copy would not follow: the products read the weights again.
            if (backend is IDecodeWeights copies)
                foreach (var slot in parameters.Slots) copies.DropDecodeCopy(slot.Value);
            return;
        }
        if (storage == WeightStorage.F32 && !f32Copies) return;
        if (backend is not IDecodeWeights decode)
        {
            if (storage == WeightStorage.Bf16) throw new ConfigurationException($"weights bf16: the {backend.Name} backend keeps weights in f32 only; use the cpu backend or weights f32");
            return;
        }
        foreach (var node in graph.Graph.Nodes)
            if (node.Op == OpCode.MatMul && node.Inputs[1] is { Op: OpCode.Parameter } weight)
            {
                var slot = parameters.Get(weight.Attrs.Name!);
                long cols = slot.Shape.Length > 0 ? slot.Shape[^1] : 1;
                decode.KeepDecodeCopy(slot.Value, storage, slot.Elements / Math.Max(1, cols), cols, node.Attrs.TransposeB);
                slot.Storage = storage;
            }
    }
}
