using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Dsl;
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
        var stored = LanguageModelCheckpoint.Read(checkpointPath, adapterPath);
        var (config, tokenizer) = (stored.Config, stored.Tokenizer);
        LoadedModel model = config.Load(training: false, cacheLength: config.Context);
        var session = new Session(backend, seed, options);
        try
        {
            stored.LoadInto(session, model.Graph);
            return new CheckpointModel(session, config, tokenizer);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
