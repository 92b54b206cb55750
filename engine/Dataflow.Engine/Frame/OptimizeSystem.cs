using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;

namespace Dataflow.Engine.Frame;

/// <summary>
/// Updates every parameter from its gradient with the optimizer's kernel, on the device. When
/// clipping is on, the global gradient norm (computed by the graph as the output
/// <see cref="TrainingGraph.GradNormSquared"/>) scales every gradient first.
/// </summary>
public sealed class OptimizeSystem(ParameterStore parameters, IBackend backend, Func<FrameContext> frame) : ISystem
{
    private static readonly QueryDescription Gradients = new QueryDescription().WithAll<GradOf, BufferSlot>();
    private static readonly QueryDescription Outputs = new QueryDescription().WithAll<OutputTag, BufferSlot>();
    private readonly Dictionary<(OptimizerKind, long), ICompiledKernel> _kernels = [];
    private (ParameterSlot Slot, IDeviceBuffer Gradient)[]? _pairs;

    public string Name => nameof(OptimizeSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(GradOf), typeof(BufferSlot), typeof(OutputTag)], writes: []);

    public void Run(World world)
    {
        var context = frame();
        if (context.Update is not { } update) return;

        if (_pairs is null)
        {
            var pairs = new List<(ParameterSlot, IDeviceBuffer)>();
            world.ForEach(in Gradients, (ref GradOf grad, ref BufferSlot slot) =>
            {
                foreach (var name in grad.Parameters) pairs.Add((parameters.Get(name), slot.Buffer));
            });
            _pairs = [.. pairs.OrderBy(p => p.Item1.Name, StringComparer.Ordinal)];
        }

        // A step whose loss or gradient norm is not finite leaves the parameters as they were: the
        // run is failing anyway, and the parameters that produced the bad step are what a diagnosis
        // (NonFiniteDiagnosis) needs to find the op that overflowed.
        double? normSquared = ReadOutput(world, TrainingGraph.GradNormSquared);
        if ((ReadOutput(world, TrainingGraph.LossOutput) is { } loss && !double.IsFinite(loss)) || (normSquared is { } n && !double.IsFinite(n)))
        {
            context.UpdateSkipped = true;
            return;
        }

        var scalars = (float[])update.Scalars.Clone();
        scalars[OptimizerScalars.GradientScale] = 1f;
        if (normSquared is not null)
        {
            context.GradientNorm = Math.Sqrt(normSquared.Value);
            if (update.ClipNorm > 0 && context.GradientNorm > update.ClipNorm)
                scalars[OptimizerScalars.GradientScale] = (float)(update.ClipNorm / (context.GradientNorm + 1e-6));
        }

        var launch = new LaunchParams(0, scalars);
        // Weight decay applies to matrices only (embeddings, projections), not to biases and
        // norm gains, as in GPT-2 and nanoGPT: shrinking a gain towards 0 is not regularisation.
        var noDecay = (float[])scalars.Clone();
        noDecay[OptimizerScalars.WeightDecay] = 0f;
        var vectorLaunch = new LaunchParams(0, noDecay);
        foreach (var (slot, gradient) in _pairs)
        {
            var key = (update.Kind, slot.Elements);
            if (!_kernels.TryGetValue(key, out var kernel))
                _kernels[key] = kernel = backend.Compile(new OptimizerStepSpec(update.Kind, slot.Elements));
            IDeviceBuffer[] buffers = [slot.Value, gradient, .. slot.State];
            var parameters = slot.Shape.Length >= 2 ? launch : vectorLaunch;
            backend.Enqueue(kernel, buffers, in parameters);
        }
    }

    /// <summary>The scalar output <paramref name="name"/> of this step, or null when the graph has none.</summary>
    private double? ReadOutput(World world, string name)
    {
        double? result = null;
        world.ForEach(in Outputs, (ref OutputTag tag, ref BufferSlot slot) =>
        {
            if (result is not null || !tag.Names.Contains(name)) return;
            Span<float> value = stackalloc float[1];
            backend.Wait();
            backend.Download(slot.Buffer, value);
            result = value[0];
        });
        return result;
    }
}
