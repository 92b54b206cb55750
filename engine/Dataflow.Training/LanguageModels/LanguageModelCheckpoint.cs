using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;

namespace Dataflow.Training;

/// <summary>
/// A language-model checkpoint read for use (evaluation, generation, fine-tuning, RL): the file, the
/// config that lowers its model again, its tokenizer, and optionally a LoRA adapter trained on it
/// (checked against this base; the config then carries the adapter's LoRA settings).
/// </summary>
public sealed record LanguageModelCheckpoint(string Path, Checkpoint Checkpoint, LanguageModelConfig Config, ITokenizer Tokenizer, LoraAdapter? Adapter)
{
    public static LanguageModelCheckpoint Read(string path, string? adapterPath = null)
    {
        var checkpoint = CheckpointReader.Load(path);
        var adapter = adapterPath is null ? null : LoraAdapter.Read(adapterPath);
        adapter?.CheckBase(path);
        var config = LanguageModelConfig.FromCheckpoint(checkpoint.Header, path) with { Lora = adapter?.Config };
        var tokenizer = TokenizerFactory.FromJson(checkpoint.TokenizerJson
            ?? throw new CheckpointException(path, "carries no tokenizer, so text cannot be turned into its tokens or back"));
        return new LanguageModelCheckpoint(path, checkpoint, config, tokenizer, adapter);
    }

    /// <summary>Loads the weights (and the adapter's, when there is one) into <paramref name="session"/> for <paramref name="graph"/>.</summary>
    public void LoadInto(Session session, ComputeGraph graph)
    {
        if (Adapter is null) SessionCheckpoint.Load(session, graph, Path);
        else SessionAdapter.Load(session, graph, Path, Adapter);
    }
}
