using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Lora;
using Dataflow.Training;

namespace Dataflow.Generation;

/// <summary>
/// A language-model checkpoint opened for generation: a session on the backend holding its weights,
/// the config that lowers the model again (in decode mode), and its tokenizer. The checkpoint alone
/// is enough: it carries the model text, the settings and the tokenizer. With an adapter (written by
/// a LoRA run on this checkpoint) the model is lowered with the adapter's LoRA config and both files'
/// tensors are loaded; an adapter trained on another base is refused.
/// </summary>
public sealed record CheckpointModel(Session Session, LanguageModelConfig Config, ITokenizer Tokenizer)
{
    /// <summary>Loads <paramref name="checkpointPath"/> (and <paramref name="adapterPath"/>'s LoRA adapter, when given) onto <paramref name="backend"/> (which the session then owns).</summary>
    public static CheckpointModel Open(string checkpointPath, IBackend backend, int seed = 1, CompileOptions? options = null, string? adapterPath = null)
    {
        var checkpoint = CheckpointReader.Load(checkpointPath);
        var adapter = adapterPath is null ? null : LoraAdapter.Read(adapterPath);
        adapter?.CheckBase(checkpointPath);
        var config = LanguageModelConfig.FromCheckpoint(checkpoint.Header, checkpointPath) with { Lora = adapter?.Config };
        var tokenizer = TokenizerFactory.FromJson(checkpoint.TokenizerJson
            ?? throw new CheckpointException(checkpointPath, "carries no tokenizer, so its tokens cannot be turned into text"));
        LoadedModel model = config.Load(training: false, cacheLength: config.Context);
        var session = new Session(backend, seed, options);
        try
        {
            if (adapter is null) SessionCheckpoint.Load(session, model.Graph, checkpointPath);
            else SessionAdapter.Load(session, model.Graph, checkpointPath, adapter);
            return new CheckpointModel(session, config, tokenizer);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
