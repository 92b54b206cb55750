using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;

namespace Dataflow.Conformance.Harness;

/// <summary>What one run of a case gave: its outputs by name, its kernel count, and what the sentinels saw.</summary>
public sealed record ExecutionResult(
    IReadOnlyDictionary<string, float[]> Outputs,
    int Kernels,
    SentinelReport? Sentinels,
    string? SkipReason);

/// <summary>
/// Runs a case through the whole engine (compile schedule, then one frame) on one backend, op by
/// op or fused, and then, when asked, once more kernel by kernel between sentinels.
/// </summary>
public static class CaseExecution
{
    /// <summary>The optimizer of training cases: Adam, so its kernel's moments and bias correction are exercised.</summary>
    private static readonly OptimizerConfig Optimizer = new() { Kind = OptimizerKind.Adam, LearningRate = 1e-2 };

    public static ExecutionResult Run(IBackend backend, CaseInstance instance, bool fusion, bool withSentinels)
    {
        var borrowed = new BorrowedBackend(backend);
        using var session = new Session(borrowed, seed: 1, new CompileOptions { Fusion = fusion })
        {
            Optimizer = Optimizer,
            Schedule = new ConstantSchedule(Optimizer.LearningRate),
        };
        CompiledProgram compiled;
        try
        {
            compiled = session.Compile(instance.Program, instance.Bindings);
        }
        catch (CompileException) when (borrowed.Refusal is { } refusal)
        {
            return new ExecutionResult(new Dictionary<string, float[]>(), 0, null, $"{refusal.Kernel}: {refusal.Reason}");
        }

        foreach (var (name, values) in instance.Parameters)
            session.Parameters.Write(session.Parameters.Get(name).Value, values);

        // The sentinel run uses buffers of its own and reads the parameters' values from the
        // instance, so it goes first: a training step below changes the session's parameters.
        var sentinels = withSentinels ? SentinelHarness.Run(backend, compiled, instance) : null;

        var fetch = instance.Program.Outputs.Keys.ToList();
        var outputs = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (instance.Case.Train)
        {
            foreach (var (name, values) in session.TrainStep(compiled, instance.Inputs, fetch).Results) outputs[name] = values;
            foreach (var slot in session.Parameters.Slots)
                outputs[CaseInstance.ParameterAfterStep + slot.Name] = session.Parameters.Read(slot.Value, slot.Elements);
        }
        else
        {
            foreach (var (name, values) in session.Run(compiled, instance.Inputs, fetch).Results) outputs[name] = values;
        }
        return new ExecutionResult(outputs, compiled.KernelCount, sentinels, null);
    }
}
