using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;
using Dataflow.Engine;

namespace Dataflow.Training;

/// <summary>
/// Which of a model's inputs take a language model's tokens and targets: both i32[B, T]; the tokens
/// are the one the <c>logits</c> output reads, the targets the one only the loss reads. B and T are
/// the symbols the runner binds to the batch size and the context.
/// </summary>
public sealed record LanguageModelInputs(string Tokens, string Targets, string Logits, string BatchSymbol, string LengthSymbol)
{
    public const string LogitsOutput = "logits";

    public static LanguageModelInputs Of(ComputeGraph graph)
    {
        if (!graph.Outputs.TryGetValue(LogitsOutput, out var logits))
            throw new ConfigurationException($"model {graph.Name} has no output named '{LogitsOutput}' to predict tokens with");
        var sequences = graph.Inputs.Values.Where(n => n.DType == DType.I32 && n.Shape.Rank == 2).ToList();
        var read = Reachable(logits);
        var tokens = sequences.Where(read.Contains).ToList();
        var targets = sequences.Where(n => !read.Contains(n)).ToList();
        if (tokens.Count != 1 || targets.Count != 1)
            throw new ConfigurationException($"model {graph.Name}: a language model needs one i32[B, T] input the logits read (the tokens) and one only the loss reads (the targets); " +
                $"the model declares {string.Join(", ", graph.Inputs.Values.Select(n => $"{n.Attrs.Name} : {n.Type}"))}");
        var shape = tokens[0].Shape;
        string Symbol(int axis, string what)
        {
            var names = shape[axis].FreeSymbols.ToList();
            if (names.Count == 1 && shape[axis] == Dim.Symbol(names[0])) return names[0];
            throw new ConfigurationException($"model {graph.Name}: axis {axis} of '{tokens[0].Attrs.Name}' must be a symbol ({what}), got {shape[axis]}");
        }
        return new LanguageModelInputs(tokens[0].Attrs.Name!, targets[0].Attrs.Name!, LogitsOutput, Symbol(0, "the batch"), Symbol(1, "the sequence length"));
    }

    public Dictionary<string, long> Bindings(long batch, long length) => new() { [BatchSymbol] = batch, [LengthSymbol] = length };

    private static HashSet<Node> Reachable(Node from)
    {
        var seen = new HashSet<Node>();
        var stack = new Stack<Node>([from]);
        while (stack.TryPop(out var node))
            if (seen.Add(node))
                foreach (var input in node.Inputs) stack.Push(input);
        return seen;
    }
}
