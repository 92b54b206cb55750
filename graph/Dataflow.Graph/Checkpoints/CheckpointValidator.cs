namespace Dataflow.Graph.Checkpoints;

/// <summary>Checks that a loaded checkpoint holds exactly the parameters a model expects, before any are copied.</summary>
public static class CheckpointValidator
{
    public static void CheckMatches(Checkpoint ckpt, string path, string graphName, IEnumerable<(string Name, long[] Shape)> expected)
    {
        // Naming the model the file came from turns "tensor missing" into an obvious "wrong file".
        string origin = ckpt.Header.GraphName == graphName ? "" : $" (the checkpoint was saved from model {ckpt.Header.GraphName})";
        var stored = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var tensor in ckpt.Tensors) stored.TryAdd(tensor.Name, tensor);

        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, shape) in expected)
        {
            wanted.Add(name);
            if (!stored.TryGetValue(name, out var tensor))
                throw new CheckpointException(path, $"tensor '{name}' of model {graphName} is missing from the checkpoint{origin}");
            if (!tensor.Shape.AsSpan().SequenceEqual(shape))
                throw new CheckpointException(path,
                    $"tensor '{name}' has shape {CheckpointFormat.ShapeText(tensor.Shape)} in the checkpoint but {CheckpointFormat.ShapeText(shape)} in model {graphName}{origin}");
        }
        foreach (var tensor in ckpt.Tensors)
        {
            if (!wanted.Contains(tensor.Name))
                throw new CheckpointException(path, $"tensor '{tensor.Name}' in the checkpoint is not a parameter of model {graphName}{origin}");
        }
    }
}
