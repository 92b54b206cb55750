using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Generation.Frame;
using Dataflow.Graph.Dsl;

namespace Dataflow.Generation;

/// <summary>How many sequences a generator runs at once and how it prefills.</summary>
/// <param name="Slots">Cache slots: the decode graph's batch, so the most sequences decoded together.</param>
/// <param name="Chunk">Tokens per prefill step (capped at the context).</param>
public sealed record GeneratorOptions(int Slots = 1, int Chunk = 64)
{
    /// <summary>How the key/value caches store their values: f32, or bf16 (half the bytes; the cpu backend only).</summary>
    public CacheStorage Cache { get; init; }

    public GeneratorOptions Validated(int context)
    {
        if (Slots <= 0) throw new ConfigurationException($"--batch {Slots}: at least one sequence must fit");
        if (Chunk <= 0) throw new ConfigurationException($"--prefill-chunk {Chunk}: must be positive");
        return this with { Chunk = Math.Min(Chunk, context) };
    }
}

/// <summary>
/// Generates many sequences at once, as a game loop: each request is an entity of the generator's
/// world, and every frame the schedule (derived from the systems' declared access, see
/// <see cref="GenerationSchedule"/>) runs Admit → Prefill (one chunk) → Decode (one batched step)
/// → Sample → Stream → Tool → Retire over all of them (continuous batching: a finished sequence's cache slot
/// goes to the next waiting one the frame after). Serves <c>generate</c>, and later chat and RL rollouts.
/// </summary>
public sealed class Generator : IDisposable
{
    private readonly World _world = new();
    private readonly Schedule _schedule;
    private readonly BatchDecoder _decoder;
    private readonly FrameClock _clock;
    private readonly GenerationResults _results;
    private readonly Session? _owned;
    private int _nextRequest;

    public Generator(BatchDecoder decoder, ITokenizer tokenizer)
    {
        Tokenizer = tokenizer;
        _decoder = decoder;
        GenerationSchedule.AddResources(_world, decoder, tokenizer.VocabSize);
        (_clock, _results) = (_world.Resource<FrameClock>(), _world.Resource<GenerationResults>());
        _schedule = GenerationSchedule.Create(decoder.Slots, decoder.CacheLength);
    }

    private Generator(CheckpointModel model, GeneratorOptions options)
        : this(new BatchDecoder(model.Session, (length, slots) => (model.Config with { Cache = options.Cache }).Load(training: false, length, slots),
            options.Slots, model.Config.Context, options.Chunk), model.Tokenizer) => _owned = model.Session;

    /// <summary>Opens a language-model checkpoint, with a LoRA adapter when <paramref name="adapterPath"/> is given, on <paramref name="backend"/> (which the generator disposes).</summary>
    public static Generator Open(string checkpointPath, IBackend backend, GeneratorOptions options, CompileOptions? compile = null, string? adapterPath = null)
    {
        var model = CheckpointModel.Open(checkpointPath, backend, options: (compile ?? CompileOptions.Default) with { DecodeCopies = true }, adapterPath: adapterPath);
        try { return new Generator(model, options.Validated(model.Config.Context)); }
        catch { model.Session.Dispose(); throw; }
    }

    public ITokenizer Tokenizer { get; }
    public int Context => _decoder.CacheLength;
    public int Slots => _decoder.Slots;

    /// <summary>Frames run so far.</summary>
    public long Frame => _clock.Number;

    /// <summary>How long each system took in the last frame (for --verbose and profiling).</summary>
    public IReadOnlyList<(string System, TimeSpan Elapsed)> LastFrameTimings => _schedule.LastTimings;

    /// <summary>The frame's schedule (for tests of its derived order and of the systems' access).</summary>
    internal Schedule FrameSchedule => _schedule;

    /// <summary>The world the frame runs over (for tests that run frame systems under other declarations).</summary>
    internal World FrameWorld => _world;

    /// <summary>Sequences submitted and not yet retired.</summary>
    public int Active => _world.EntityCount;

    /// <summary>Queues a request; returns its id (ids count from 0 in submission order). A prompt longer than the context is refused.</summary>
    public int Submit(GenerationRequest request)
    {
        if (request.Prompt.Length == 0) throw new ConfigurationException("a prompt needs at least one token");
        if (request.Prompt.Length > Context)
            throw new ConfigurationException($"the prompt is {request.Prompt.Length} tokens but the model's context is {Context} tokens; shorten the prompt");
        if (request.MaxTokens < 0) throw new ConfigurationException($"--max-tokens {request.MaxTokens}: must not be negative");
        int id = _nextRequest++;
        SequenceEntity.Create(_world, id, request, Tokenizer);
        return id;
    }

    /// <summary>Runs one frame; false when there was nothing to do.</summary>
    public bool Step()
    {
        if (_world.EntityCount == 0) return false;
        _clock.Number++;
        _schedule.Run(_world);
        return true;
    }

    /// <summary>Runs frames until every submitted request is retired; returns all results so far by request id.</summary>
    public IReadOnlyList<GenerationResult> Run()
    {
        while (Step()) { }
        return [.. _results.ById.OrderBy(r => r.Key).Select(r => r.Value)];
    }

    /// <summary>The result of a retired request, or null while it runs.</summary>
    public GenerationResult? Result(int request) => _results.ById.GetValueOrDefault(request);

    public void Dispose()
    {
        _world.Dispose();
        _owned?.Dispose();
    }
}
