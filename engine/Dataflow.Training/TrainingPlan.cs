using Dataflow.Engine.Compile;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Lora;

namespace Dataflow.Training;

/// <summary>
/// Everything a <see cref="Trainer"/> needs for one run. The kinds of run (ClassifierRun,
/// LanguageModelRun, Seq2SeqRun) build one from their settings: they differ in the batch source, the
/// evaluator, the schedule they pick and what goes into the checkpoint's config.
/// </summary>
public sealed record TrainingPlan
{
    /// <summary>Shown on the progress bar: <c>train mlp</c>.</summary>
    public required string Title { get; init; }

    /// <summary>The model as trained (dropout on); evaluators hold their own dropout-free copy.</summary>
    public required LoadedModel Model { get; init; }

    public required IBatchSource Batches { get; init; }
    public required IEvaluator Evaluator { get; init; }

    /// <summary>Total optimizer steps to reach; a resumed run continues to this count.</summary>
    public required long Steps { get; init; }

    /// <summary>Evaluate (and checkpoint) every this many steps, and after the last.</summary>
    public required long EvalEvery { get; init; }

    /// <summary>Also evaluate before the first step of a fresh run (nanoGPT's step 0).</summary>
    public bool EvaluateFirst { get; init; }

    /// <summary>The model file's optimizer with the run's overrides; clipping is its ClipNorm.</summary>
    public required OptimizerConfig Optimizer { get; init; }
    public required LearningRateSchedule Schedule { get; init; }

    /// <summary>Seeds parameter initialisation and dropout (the batch source has its own seed).</summary>
    public int Seed { get; init; } = 1;
    public CompileOptions Compile { get; init; } = CompileOptions.Default;

    /// <summary>End on the mean of the parameters at these snapshots (null: no averaging).</summary>
    public SnapshotSchedule? Averaging { get; init; }

    /// <summary>A wall-clock ceiling: the run stops before a step that would end past it (null: none).</summary>
    public RunDeadline? Deadline { get; init; }

    /// <summary>Stop after this many evaluations in a row without a lower validation loss; 0: never.</summary>
    public int Patience { get; init; }

    /// <summary>The number reported at the end when it differs from the periodic one (a language model's whole validation split).</summary>
    public IEvaluator? FinalEvaluator { get; init; }

    /// <summary>The checkpoint's config for the session as it is, given how many snapshots were averaged into it.</summary>
    public required Func<Session, int, IReadOnlyDictionary<string, string>> CheckpointConfig { get; init; }

    /// <summary>Stored with every checkpoint, so the checkpoint alone can encode and decode text.</summary>
    public string? TokenizerJson { get; init; }

    /// <summary>
    /// Called once the session's parameters exist, before resuming: a run that starts from another
    /// checkpoint's weights loads them here, and a batch source that samples from the policy being
    /// trained (reinforcement learning) keeps the session.
    /// </summary>
    public Action<Session>? Prepare { get; init; }

    public string? CheckpointPath { get; init; }
    public string? ResumePath { get; init; }

    /// <summary>Fine-tuning: a fresh run's base parameters start from this checkpoint's weights (step 0, no optimizer state).</summary>
    public string? FromPath { get; init; }

    /// <summary>
    /// A LoRA run (the model lowered with this config, its base frozen): checkpoints are adapter files
    /// holding the adapters and <see cref="FromPath"/>'s checksum, not the whole model.
    /// </summary>
    public LoraConfig? Lora { get; init; }

    /// <summary>Checks that a checkpoint to resume from belongs to this run (its task, say); throws if not.</summary>
    public Action<Checkpoint>? CheckResumed { get; init; }

    /// <summary>For the report only: the epochs this run's steps make (0 for step-counted runs).</summary>
    public int Epochs { get; init; }

    /// <summary>The ranks this run is one of (data-parallel training); one process by default.</summary>
    public IDataParallel Parallel { get; init; } = SingleProcess.Instance;

    /// <summary>0..4: device and kernel counts, per-kernel timings at the end, the compiled kernels, each kernel's generated source.</summary>
    public int Verbose { get; init; }
}
