using Dataflow.Engine.Compile;

namespace Dataflow.Chat.Sft;

/// <summary>Everything <c>dataflow sft</c> was asked to do; null means the default named on each.</summary>
public sealed record SftSettings
{
    /// <summary>"synthetic" (the task mixture) or a JSONL file of conversations.</summary>
    public required string Data { get; init; }

    public string? CheckpointPath { get; init; }
    public string? ResumePath { get; init; }

    /// <summary>Optimizer steps; default 1500.</summary>
    public int? Steps { get; init; }

    /// <summary>Rows per batch; default the model file's train(batch = …).</summary>
    public int? Batch { get; init; }

    /// <summary>
    /// Peak learning rate; default the model file's train(sft_lr = …), or with LoRA its sft_lora_lr,
    /// else half its optimizer's (fine-tuning moves less than pre-training).
    /// </summary>
    public double? LearningRate { get; init; }
    public double? MinLearningRate { get; init; }
    public int? Warmup { get; init; }
    public int? EvalInterval { get; init; }

    /// <summary>Held-out problems per task in the accuracy report at the end (synthetic data only); 0: none.</summary>
    public int EvalCount { get; init; } = 100;

    public int Seed { get; init; } = 1;
    public int Verbose { get; init; }
    public CompileOptions Compile { get; init; } = CompileOptions.Default;
}
