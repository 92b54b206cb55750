using Dataflow.Backends.Cpu;
using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Sessions;
using Dataflow.Generation;
using Dataflow.Graph.Dsl;
using Dataflow.Tests.Support;
using Dataflow.Tests.Training;
using Dataflow.Training;

namespace Dataflow.Tests.LanguageModels;

/// <summary>
/// Inference with bf16 weights and bf16 key/value caches against f32: gpt.dfg shrunk (wide enough, d 64, that a
/// decode step of one or four sequences takes every streamed bf16 path), and a tiny model trained on a repetitive text.
/// </summary>
public sealed class Bf16GenerationTests : IClassFixture<Bf16GenerationTests.Trained>
{
    private const int Vocab = 50, Context = 32;

    private static readonly Dictionary<string, string> Overrides = new()
    {
        ["vocab"] = $"{Vocab}", ["layers"] = "2", ["heads"] = "2", ["d"] = "64", ["ctx"] = $"{Context}", ["dropout"] = "0",
    };

    private static readonly CompileOptions Bf16 = new() { Weights = WeightStorage.Bf16 };

    /// <summary>A character model trained for 100 steps: confident enough that greedy decoding is a fair test.</summary>
    public sealed class Trained : IDisposable
    {
        public Trained()
        {
            File.WriteAllText(Directory.File("text.txt"), TinyGpt.RepetitiveText(6000));
            var settings = new LanguageModelSettings
            {
                ModelPath = TinyGpt.ModelPath, TextPath = Directory.File("text.txt"), Tokenizer = "char", Steps = 100, Batch = 8,
                LearningRate = 1e-2, MinLearningRate = 1e-3, Warmup = 10, EvalInterval = 100, EvalIters = 1,
                Overrides = new Dictionary<string, string> { ["layers"] = "2", ["heads"] = "2", ["d"] = "64", ["ctx"] = "32", ["dropout"] = "0" },
                CheckpointPath = Checkpoint,
            };
            Trainer.Run(LanguageModelRun.Plan(settings).Plan, new CpuBackend(), new RecordingObserver());
        }

        public TempDirectory Directory { get; } = new();
        public string Checkpoint => Directory.File("lm.ckpt");
        public void Dispose() => Directory.Dispose();
    }

    private readonly Trained _trained;

    public Bf16GenerationTests(Trained trained) => _trained = trained;

    private static LoadedModel Load(int? cacheLength, int? slots = null, CacheStorage cache = CacheStorage.F32) =>
        ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, Overrides, Training: false, CacheLength: cacheLength, CacheSlots: slots) { Cache = cache });

    private static BatchDecoder NewDecoder(Session session, int slots, CacheStorage cache = CacheStorage.F32) =>
        new(session, (length, perRow) => Load(length, perRow, cache), slots, Context, 8);

    /// <summary>Prefills each prompt, then decodes <paramref name="steps"/> tokens for all together, fed <paramref name="fed"/>'s tokens when given (so both runs see the same inputs) or their own greedy ones.</summary>
    private static (List<float[]>[] Logits, List<int>[] Tokens) Decode(BatchDecoder decoder, int[][] prompts, int steps, List<int>[]? fed = null)
    {
        var logits = prompts.Select(_ => new List<float[]>()).ToArray();
        var chosen = prompts.Select(_ => new List<int>()).ToArray();
        var (tokens, positions) = (new int[decoder.Slots], new int[decoder.Slots]);
        for (int s = 0; s < prompts.Length; s++)
        {
            var last = decoder.Prefill(s, prompts[s]);
            logits[s].Add(last);
            chosen[s].Add(Sampler.ArgMax(last));
            (tokens[s], positions[s]) = (fed?[s][0] ?? chosen[s][0], prompts[s].Length);
        }
        for (int step = 1; step <= steps; step++)
        {
            var all = decoder.Decode(tokens, positions);
            for (int s = 0; s < prompts.Length; s++)
            {
                var row = all.AsSpan(s * Vocab, Vocab).ToArray();
                logits[s].Add(row);
                chosen[s].Add(Sampler.ArgMax(row));
                (tokens[s], positions[s]) = (fed?[s][step] ?? chosen[s][step], positions[s] + 1);
            }
        }
        return (logits, chosen);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Bf16_logits_are_within_a_percent_of_f32(int slots)
    {
        var random = new Random(5);
        var prompts = Enumerable.Range(0, slots).Select(n => Enumerable.Range(0, 3 + 5 * n).Select(_ => random.Next(Vocab)).ToArray()).ToArray();
        const int steps = 16;
        using var f32Session = new Session(new CpuBackend(), 7);
        using var bf16Session = new Session(new CpuBackend(), 7, Bf16);
        var f32 = Decode(NewDecoder(f32Session, slots), prompts, steps);
        var bf16 = Decode(NewDecoder(bf16Session, slots), prompts, steps, fed: f32.Tokens);

        for (int s = 0; s < slots; s++)
            for (int step = 0; step <= steps; step++)
            {
                float[] expected = f32.Logits[s][step], actual = bf16.Logits[s][step];
                double difference = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max(), scale = expected.Max(Math.Abs);
                Assert.True(difference <= 1e-2 * scale, $"sequence {s} step {step}: max difference {difference:E3} against max |logit| {scale:E3}");
                Assert.True(difference > 0, "bf16 weights changed nothing: were they converted?");
            }
        // The matrices of the products are bf16 (two bytes an element); norms, biases and positions stay f32.
        Assert.All(bf16Session.Parameters.Slots, p => Assert.Equal(p.Shape.Length == 2 && !p.Name.StartsWith("wpe", StringComparison.Ordinal) ? WeightStorage.Bf16 : WeightStorage.F32, p.Storage));
        Assert.True(bf16Session.Parameters.Slots.Sum(p => p.StoredBytes) < 0.6 * f32Session.Parameters.Slots.Sum(p => p.StoredBytes));
    }

    /// <summary>A bf16 cache rounds every key and value as it is written: the logits move, by well under a percent, from the f32 cache's.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Bf16_cache_logits_are_within_a_percent_of_f32(int slots)
    {
        var random = new Random(6);
        var prompts = Enumerable.Range(0, slots).Select(n => Enumerable.Range(0, 2 + 4 * n).Select(_ => random.Next(Vocab)).ToArray()).ToArray();
        const int steps = 16;
        using var f32Session = new Session(new CpuBackend(), 7);
        using var bf16Session = new Session(new CpuBackend(), 7);
        var f32 = Decode(NewDecoder(f32Session, slots), prompts, steps);
        var bf16 = Decode(NewDecoder(bf16Session, slots, CacheStorage.Bf16), prompts, steps, fed: f32.Tokens);
        for (int s = 0; s < slots; s++)
            for (int step = 0; step <= steps; step++)
            {
                float[] expected = f32.Logits[s][step], actual = bf16.Logits[s][step];
                double difference = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max(), scale = expected.Max(Math.Abs);
                Assert.True(difference <= 1e-2 * scale, $"sequence {s} step {step}: max difference {difference:E3} against max |logit| {scale:E3}");
                Assert.True(difference > 0, "a bf16 cache changed nothing: were the values rounded?");
            }
    }

    /// <summary>The slots of a bf16 cache are as independent as an f32 cache's: four prompts decoded together give each one's logits alone.</summary>
    [Fact]
    public void Batched_decode_with_a_bf16_cache_gives_each_sequence_its_logits_alone()
    {
        var random = new Random(8);
        var prompts = Enumerable.Range(0, 4).Select(n => Enumerable.Range(0, 1 + 3 * n).Select(_ => random.Next(Vocab)).ToArray()).ToArray();
        const int steps = 12;
        using var together = new Session(new CpuBackend(), 7);
        var all = Decode(NewDecoder(together, 4, CacheStorage.Bf16), prompts, steps);
        for (int s = 0; s < prompts.Length; s++)
        {
            using var single = new Session(new CpuBackend(), 7);
            var alone = Decode(NewDecoder(single, 1, CacheStorage.Bf16), [prompts[s]], steps);
            Assert.Equal(alone.Tokens[0], all.Tokens[s]);
            for (int step = 0; step <= steps; step++)
            {
                double difference = alone.Logits[0][step].Zip(all.Logits[s][step], (e, a) => Math.Abs(e - a)).Max();
                Assert.True(difference <= 1e-5, $"sequence {s} step {step}: {difference:E3} between batched and alone");
            }
        }
    }

    /// <summary>Each layer's cache is a bf16x2 state tensor of half the f32 cache's elements; an odd head size cannot be paired and is refused.</summary>
    [Fact]
    public void A_bf16_cache_is_bf16x2_state_of_half_the_elements_and_needs_an_even_head_size()
    {
        static IEnumerable<Graph.Ir.Node> Caches(LoadedModel model) => model.Graph.Inputs.Values.Where(n => n.Attrs.Persistent).OrderBy(n => n.Attrs.Name, StringComparer.Ordinal);
        var (f32, bf16) = (Caches(Load(Context, slots: 3, cache: CacheStorage.F32)).ToList(), Caches(Load(Context, slots: 3, cache: CacheStorage.Bf16)).ToList());
        Assert.Equal(4, f32.Count);   // keys and values of two layers
        Assert.Equal(f32.Count, bf16.Count);
        for (int i = 0; i < f32.Count; i++)
        {
            Assert.Equal(Graph.Tensors.DType.F32, f32[i].DType);
            Assert.Equal(Graph.Tensors.DType.Bf16x2, bf16[i].DType);
            Assert.Equal(f32[i].Shape.ToConcrete().Aggregate(1L, (a, b) => a * b), 2 * bf16[i].Shape.ToConcrete().Aggregate(1L, (a, b) => a * b));
        }
        var odd = new Dictionary<string, string>(Overrides) { ["d"] = "66", ["heads"] = "2" };   // head size 33
        var error = Assert.ThrowsAny<Exception>(() => ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, odd, Training: false, CacheLength: Context) { Cache = CacheStorage.Bf16 }));
        Assert.Contains("head size 33 is odd", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Greedy_generation_from_a_trained_model_is_the_same_text_with_bf16_weights_or_cache(bool bf16Cache)
    {
        string Generate(CompileOptions options, CacheStorage cache)
        {
            var settings = new GenerationSettings
            {
                CheckpointPath = _trained.Checkpoint, Prompts = [("the ", "1"), ("the dog", "2"), ("on the m", "3")], MaxTokens = 60,
                Sampling = new SamplingOptions(0), CompileOptions = options, Cache = cache,
            };
            var output = new StringWriter();
            BatchGeneration.Run(settings, new CpuBackend(), output);
            return output.ToString();
        }
        string f32 = Generate(CompileOptions.Default, CacheStorage.F32);
        string bf16 = bf16Cache ? Generate(CompileOptions.Default, CacheStorage.Bf16) : Generate(Bf16, CacheStorage.F32);
        Assert.Contains("the mat", f32);
        Assert.Equal(f32, bf16);
    }

    [Fact]
    public void Bf16_weights_are_refused_for_training_and_on_a_backend_without_them()
    {
        var training = ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, Overrides, Training: true));
        var inputs = LanguageModelInputs.Of(training.Graph);
        using var session = new Session(new CpuBackend(), 1, Bf16);
        var trainingError = Assert.Throws<ConfigurationException>(() => session.Compile(StepGraph.ForTraining(training.Graph, withGradNorm: false), inputs.Bindings(2, Context)));
        Assert.Contains("inference only", trainingError.Message);

        var model = Load(cacheLength: null);
        using var elsewhere = new Session(new NullBackend(), 1, Bf16);
        var backendError = Assert.Throws<ConfigurationException>(() => elsewhere.Compile(StepGraph.ForwardOnly(model.Graph, includeLoss: false), LanguageModelInputs.Of(model.Graph).Bindings(1, 4)));
        Assert.Contains("null backend", backendError.Message);
    }

    /// <summary>f32 decode copies are made for an inference graph and dropped, for good, once the session compiles a training step (its optimizer writes the weights in place).</summary>
    [Fact]
    public void A_session_that_trains_drops_its_f32_decode_copies_and_makes_no_more()
    {
        var training = ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, Overrides, Training: true));
        var inputs = LanguageModelInputs.Of(training.Graph);
        using var session = new Session(new CpuBackend(), 1, new CompileOptions { DecodeCopies = true });
        bool AnyCopy() => session.Parameters.Slots.Any(p => ((CpuBuffer)p.Value).Decode is not null);
        session.Compile(StepGraph.ForwardOnly(training.Graph), inputs.Bindings(2, Context));
        Assert.True(AnyCopy());
        session.Compile(StepGraph.ForTraining(training.Graph, withGradNorm: false), inputs.Bindings(2, Context));
        Assert.False(AnyCopy());
        session.Compile(StepGraph.ForwardOnly(training.Graph, includeLoss: false), inputs.Bindings(2, Context));
        Assert.False(AnyCopy());
    }
}
