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

        var scalars = (float[])update.Scalars.Clone();
        scalars[OptimizerScalars.GradientScale] = 1f;
        if (ReadGradNormSquared(world) is { } normSquared)
        {
            context.GradientNorm = Math.Sqrt(normSquared);
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

    private double? ReadGradNormSquared(World world)
    {
        double? result = null;
        world.ForEach(in Outputs, (ref OutputTag tag, ref BufferSlot slot) =>
        {
            if (!tag.Names.Contains(TrainingGraph.GradNormSquared)) return;
            Span<float> value = stackalloc float[1];
            backend.Wait();
            backend.Download(slot.Buffer, value);
            result = value[0];
        });
        return result;
    }
}
