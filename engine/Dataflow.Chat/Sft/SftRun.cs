using System.Globalization;
using Dataflow.Chat.Tasks;
using Dataflow.Engine;
using Dataflow.Engine.Data;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Checkpoints;
using Dataflow.Training;

namespace Dataflow.Chat.Sft;

/// <summary>
/// Supervised fine-tuning as a <see cref="TrainingPlan"/> for the library's <see cref="Trainer"/>: the
/// base checkpoint's weights (a fresh optimizer, step 0), batches of packed conversations whose
/// targets train only on the assistant's tokens, AdamW with warm-up and cosine decay, the masked
/// held-out loss at every evaluation and, for synthetic data, each task's held-out accuracy at the
/// end. The checkpoint is a language-model checkpoint like the base's, so generate, chat and eval open it.
/// </summary>
public static class SftRun
{
    public const int DefaultSteps = 1500;

    /// <summary>Held-out synthetic conversations packed for the loss estimate.</summary>
    private const int ValidationConversations = 256;

    public static (TrainingPlan Plan, string Description) Plan(SftSettings s, SftModel model, Func<WordList>? words = null)
    {
        words ??= () => WordList.Load();
        if (model.Config.Lora is not null && s.ResumePath is not null)
            throw new ConfigurationException("--resume with --lora is not supported (an adapter file keeps no optimizer state); start again with --from");
        var tokens = new ChatTokens(model.Tokenizer);
        var renderer = new ChatRenderer(tokens);
        var inputs = LanguageModelInputs.Of(model.Training.Graph);
        var evalInputs = LanguageModelInputs.Of(model.Evaluation.Graph);
        int context = model.Config.Context;
        int ignore = IgnoreId(model, tokens);
        var defaults = model.Training.Training;
        int steps = s.Steps ?? (int)defaults.TrainArgs.GetValueOrDefault("sft_steps", DefaultSteps);
        int batch = s.Batch ?? (int)defaults.TrainArgs.GetValueOrDefault("batch", 16);
        int evalInterval = s.EvalInterval ?? Math.Max(1, Math.Min(250, steps / 4));
        if (steps < 1 || batch < 1 || evalInterval < 1 || s.EvalCount < 0)
            throw new ConfigurationException($"--steps, --batch and --eval-interval must be positive and --eval-count not negative (got {steps}, {batch}, {evalInterval}, {s.EvalCount})");

        (RenderedConversation, string) Render(IReadOnlyList<ChatMessage> messages, string source)
        {
            try { return (renderer.Render(messages), source); }
            catch (Exception e) when (e is TokenizerException or DataException) { throw new DataException($"{source}: {e.Message}", e); }
        }
        ConversationPacker train, validation;
        IReadOnlyList<IChatTask> tasks = [];
        string data;
        if (s.Data == SyntheticCorpus.Name)
        {
            bool lora = model.Config.Lora is not null;
            var mixture = SftMixture.Create(lora, words);
            bool Fits(IReadOnlyList<ChatMessage> messages) => renderer.Render(messages).Length <= context + 1;
            var (trainSet, testSet) = (new SyntheticConversations(mixture, DataSplit.Train, s.Seed, Fits), new SyntheticConversations(mixture, DataSplit.Test, s.Seed, Fits));
            train = new ConversationPacker(context, ignore, tokens.Pad, i => Render(trainSet.At(i), $"synthetic conversation {i}"));
            validation = new ConversationPacker(context, ignore, tokens.Pad, i => Render(testSet.At(i), $"synthetic held-out conversation {i}")) { Count = ValidationConversations };
            // Every task, those outside the mixture too: how far the methods SFT taught carry (subtraction-hard).
            tasks = s.EvalCount > 0 ? [.. ChatTasks.Names.Select(n => mixture.Tasks.FirstOrDefault(t => t.Name == n) ?? ChatTasks.Create(n, words))] : [];
            data = $"synthetic conversations ({(lora ? "LoRA mixture: " : "")}{SftMixture.Describe(lora)})";
        }
        else
        {
            var all = ChatJsonl.Read(s.Data);
            // The last tenth validates; a file too small to split validates on what it trains on.
            int cut = all.Count >= 10 ? all.Count - all.Count / 10 : all.Count;
            var (trainSet, heldOut) = (all.Take(cut).ToArray(), all.Count >= 10 ? all.Skip(cut).ToArray() : all.ToArray());
            var order = new EpochOrder(trainSet.Length, s.Seed);
            train = new ConversationPacker(context, ignore, tokens.Pad, i => { var c = trainSet[order.At(i)]; return Render(c.Messages, c.Source); });
            validation = new ConversationPacker(context, ignore, tokens.Pad, i => Render(heldOut[i].Messages, heldOut[i].Source)) { Count = heldOut.Length };
            data = $"{s.Data}: {trainSet.Length} train / {heldOut.Length} held-out conversations";
        }

        var lossEstimate = new SftLossEstimate(model.Evaluation.Graph, evalInputs, validation, batch, maxBatches: 16);
        var fileOptimizer = OptimizerSettings.From(defaults, null);
        double sftLr = defaults.TrainArgs.GetValueOrDefault("sft_lr", fileOptimizer.LearningRate / 2);
        // An adapter starts at zero and has few parameters, so it wants a larger step than full SFT (peft's practice).
        if (model.Config.Lora is not null) sftLr = defaults.TrainArgs.GetValueOrDefault("sft_lora_lr", sftLr);
        var optimizer = OptimizerSettings.From(defaults, s.LearningRate ?? sftLr);
        double peak = optimizer.LearningRate, minLr = s.MinLearningRate ?? peak / 10;
        int warmup = s.Warmup ?? Math.Min(50, steps / 10);
        if (minLr < 0 || minLr > peak) throw new ConfigurationException($"--min-lr {minLr} must be between 0 and the peak learning rate {peak}");
        var schedule = new WarmupCosineSchedule(peak, minLr, warmup, steps);
        var plan = new TrainingPlan
        {
            Title = $"sft {model.Training.Name}",
            Model = model.Training,
            Batches = new SftBatches(train, inputs, batch),
            Evaluator = lossEstimate,
            FinalEvaluator = tasks.Count == 0 ? null
                : new ChatTaskEvaluator(lossEstimate, tasks, s.EvalCount, s.Seed, session => new ChatGeneration(session, model.Config, tokens, slots: 32, model.DecodeModel)),
            Steps = steps,
            EvalEvery = evalInterval,
            EvaluateFirst = true,
            Optimizer = optimizer,
            Schedule = schedule,
            FromPath = model.BasePath, Lora = model.Config.Lora,    // the base's weights; with LoRA, frozen under adapters
            TokenizerJson = model.Tokenizer.ToJson(),
            CheckpointConfig = (_, _) => model.Config.ToConfig(model.Training, s.Seed, batch, new Dictionary<string, string>
            {
                ["tokenizer"] = model.Base.Header.Config.GetValueOrDefault("tokenizer", model.Tokenizer.Kind),
                ["steps"] = steps.ToString(CultureInfo.InvariantCulture),
                ["sft.base"] = Path.GetFileName(model.BasePath),
                ["sft.base_step"] = model.Base.Header.Step.ToString(CultureInfo.InvariantCulture),
                ["sft.data"] = s.Data,
            }),
            Seed = s.Seed, Compile = s.Compile, CheckpointPath = s.CheckpointPath, ResumePath = s.ResumePath, Verbose = s.Verbose,
        };
        string description = string.Create(CultureInfo.InvariantCulture,
            $"sft {model.Training.Name} from {model.BasePath} (step {model.Base.Header.Step}): {LanguageModelRun.DescribeParameters(model.Training)}; {data}; " +
            $"{lossEstimate.Targets} held-out assistant tokens; batch {batch} × context {context}; lr {peak:G3} → {minLr:G3}, warmup {warmup}, {steps} steps");
        return (plan, description);
    }

    /// <summary>
    /// The id the model's loss ignores (its <c>ignore</c> parameter): the targets of everything the
    /// assistant did not write. It must be the pad token or past the tokenizer, never a token the assistant writes.
    /// </summary>
    private static int IgnoreId(SftModel model, ChatTokens tokens)
    {
        if (!model.Training.Settings.TryGetValue("ignore", out double value) || value != Math.Floor(value))
            throw new ConfigurationException($"model {model.Training.Name}: SFT needs a whole-number parameter 'ignore' that its loss skips (cross_entropy(logits, targets, ignore = ignore)), as graph/models/chat.dfg declares");
        int ignore = (int)value;
        if (ignore != tokens.Pad && ignore < model.Tokenizer.VocabSize)
            throw new ConfigurationException($"model {model.Training.Name}: ignore = {ignore} is token '{model.Tokenizer.Decode([ignore])}', which SFT trains on; make it the {SpecialTokenNames.Pad} token ({tokens.Pad})");
        return ignore;
    }

    /// <summary>The conversations of a file in a fresh seeded order each epoch; index i of the endless stream is one of them.</summary>
    private sealed class EpochOrder(int count, int seed)
    {
        private readonly Dictionary<long, int[]> _orders = [];

        public int At(long index)
        {
            long epoch = index / count;
            if (!_orders.TryGetValue(epoch, out var order))
            {
                if (_orders.Count > 4) _orders.Clear();
                order = [.. Enumerable.Range(0, count)];
                new SeededRandom((ulong)seed * 7919UL + (ulong)epoch).Shuffle(order.AsSpan());
                _orders[epoch] = order;
            }
            return order[(int)(index % count)];
        }
    }
}
