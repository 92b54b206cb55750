using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;
using Dataflow.Engine;

namespace Dataflow.Training;

/// <summary>
/// Which of a model's inputs take a classification dataset's features and labels: the one f32
/// input [B, width] and the one i32 input [B]. A model that does not fit gets a message naming why.
/// </summary>
public sealed record ClassifierInputs(string Features, string Labels, string Logits)
{
    public static ClassifierInputs Of(ComputeGraph graph, int featureWidth, string dataName)
    {
        var features = graph.Inputs.Values.Where(n => n.DType == DType.F32).ToList();
        var labels = graph.Inputs.Values.Where(n => n.DType == DType.I32).ToList();
        if (features.Count != 1 || labels.Count != 1)
            throw new ConfigurationException($"model {graph.Name}: --data {dataName} needs exactly one f32 input (the images) and one i32 input (the labels); the model declares {string.Join(", ", graph.Inputs.Values.Select(n => $"{n.Attrs.Name} : {n.Type}"))}");
        var shape = features[0].Shape;
        if (shape.Rank != 2 || !shape[1].IsConstant || shape[1].Value != featureWidth)
            throw new ConfigurationException($"model {graph.Name}: input '{features[0].Attrs.Name}' is {features[0].Type} but {dataName} images are f32[B, {featureWidth}]");
        if (!graph.Outputs.ContainsKey("logits"))
            throw new ConfigurationException($"model {graph.Name} has no output named 'logits' to classify with");
        return new ClassifierInputs(features[0].Attrs.Name!, labels[0].Attrs.Name!, "logits");
    }

    /// <summary>How many classes the model tells apart: the last dimension of its logits.</summary>
    public long ClassCount(ComputeGraph graph)
    {
        var shape = graph.Outputs[Logits].Shape;
        var last = shape[shape.Rank - 1];
        return last.IsConstant ? last.Value : throw new ConfigurationException($"model {graph.Name}: the last dimension of '{Logits}' must be a number (the classes), got {last}");
    }

    /// <summary>The batch dimension's symbol (B in f32[B, 784]).</summary>
    public static string BatchSymbol(ComputeGraph graph, string features)
    {
        var dim = graph.Inputs[features].Shape[0];
        return dim.FreeSymbols.SingleOrDefault() ?? throw new ConfigurationException($"model {graph.Name}: the first dimension of '{features}' must be a symbol such as B, got {dim}");
    }
}
