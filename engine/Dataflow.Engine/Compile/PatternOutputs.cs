using Dataflow.Engine.Components;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Which stages of a matched pattern its one kernel writes out. The kernel runs at its root's place, so
/// a stage read outside the match is allowed only after the root; such stages, and those needed after
/// the step, are written beside the root's result, and the rest stay in registers.
/// </summary>
internal static class PatternOutputs
{
    /// <summary>
    /// The root's stage (the last of <paramref name="stages"/>), then every earlier stage read outside
    /// <paramref name="members"/> or needed after the step, as indices into <paramref name="stages"/>;
    /// null when some stage is read outside the match before the root.
    /// </summary>
    public static List<int>? Written(TensorGraph graph, IReadOnlyList<LoadedTensor> stages, IReadOnlySet<LoadedTensor> members, Func<LoadedTensor, bool> neededAfterStep)
    {
        int rootStage = stages.Count - 1;
        var root = stages[rootStage];
        var written = new List<int> { rootStage };
        for (int stage = 0; stage < rootStage; stage++)
        {
            var member = stages[stage];
            var outside = graph.Readers(member).Where(c => !members.Contains(c)).ToList();
            if (outside.Any(c => c.Id < root.Id)) return null;
            if (outside.Count > 0 || neededAfterStep(member)) written.Add(stage);
        }
        return written;
    }
}
