namespace Dataflow.Speedrun;

/// <summary>
/// One stage of the speedrun: it starts from what the context holds (the last stage's checkpoint),
/// fits its steps to the budget, writes its checkpoint in the output folder, leaves its model and scores
/// in the context for the next stage and reports its numbers. A new stage (DPO, say) is one such class in the list.
/// </summary>
public interface ISpeedrunStage
{
    /// <summary>The stage's name in the report, the JSON and its files (NAME.ckpt, NAME.jsonl).</summary>
    string Name { get; }

    StageResult Run(SpeedrunContext context);
}
