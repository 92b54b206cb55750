using System.Collections.Concurrent;
using Dataflow.Graph.Evaluation;
using Dataflow.Graph.Ops;

namespace Dataflow.Conformance.Harness;

/// <summary>A case's reference: the CPU backend's op-by-op outputs, and how they compare with the double-precision evaluation.</summary>
public sealed record Reference(IReadOnlyDictionary<string, float[]> Outputs, IReadOnlyList<Reporting.CheckResult> DoubleChecks, string? Error);

/// <summary>
/// Computes each case's reference once per process (CPU f32, fusion off: the simplest path the
/// engine has) and checks it against the double-precision <see cref="ReferenceEvaluator"/>, so a wrong reference cannot
/// make every backend look wrong, or a wrong backend look right.
/// </summary>
public static class ReferenceResults
{
    private static readonly ConcurrentDictionary<string, Lazy<Reference>> Cache = new(StringComparer.Ordinal);

    public static Reference Get(ConformanceCase c) =>
        Cache.GetOrAdd(c.Name, _ => new Lazy<Reference>(() => Compute(c))).Value;

    private static Reference Compute(ConformanceCase c)
    {
        var instance = c.Instantiate();
        ExecutionResult run;
        try
        {
            run = CaseExecution.Run(ConformanceBackends.Reference, instance, fusion: false, withSentinels: false);
        }
        catch (Exception e)
        {
            return new Reference(new Dictionary<string, float[]>(), [], $"the cpu reference threw {e.GetType().Name}: {e.Message}");
        }
        if (run.SkipReason is not null)
            return new Reference(run.Outputs, [], $"the cpu reference refused a kernel: {run.SkipReason}");
        if (!c.CheckReferenceInDouble) return new Reference(run.Outputs, [], null);

        var checks = new List<Reporting.CheckResult>();
        foreach (var (name, expected) in EvaluateInDouble(instance))
        {
            var comparison = ErrorMetrics.Compare(run.Outputs[name], expected);
            checks.Add(Checks.Judge($"cpu reference vs double: {name}", comparison, Tolerances.ReferenceInDouble(c, instance.Program.Outputs[name])));
        }
        return new Reference(run.Outputs, checks, null);
    }

    /// <summary>Every output of the case's program evaluated in double precision, its leaves widened from the case's values.</summary>
    private static Dictionary<string, double[]> EvaluateInDouble(CaseInstance instance)
    {
        var evaluator = new ReferenceEvaluator(instance.Bindings, (node, _) => node.Op switch
        {
            OpCode.Input => Widen(instance.Inputs[node.Attrs.Name!]),
            OpCode.Parameter => Widen(instance.Parameters[node.Attrs.Name!]),
            _ => throw new NotSupportedException("a dropout mask depends on the step's seed; compare it across backends instead"),
        });
        return instance.Program.Outputs.ToDictionary(o => o.Key, o => evaluator.Evaluate(o.Value).Data, StringComparer.Ordinal);
    }

    private static double[] Widen(Array values) => values switch
    {
        float[] f => f.Select(v => (double)v).ToArray(),
        int[] i => i.Select(v => (double)v).ToArray(),
        _ => throw new ArgumentException($"unsupported input array {values.GetType()}"),
    };
}
