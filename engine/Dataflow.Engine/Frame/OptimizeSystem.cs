using System.Diagnostics.CodeAnalysis;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;

namespace Dataflow.Engine.Frame;

/// <summary>
/// Updates every parameter from its gradient with the optimizer's kernel, on the device. When
/// clipping is on, the global gradient norm (computed by the graph as the output
/// <see cref="StepGraph.GradNormSquared"/>) scales every gradient first.
/// </summary>
public sealed class OptimizeSystem(ParameterStore parameters, IBackend backend) : ISystem
{
    private static readonly QueryDescription Gradients = new QueryDescription().WithAll<GradOf, BufferSlot>();
    private static readonly QueryDescription Outputs = new QueryDescription().WithAll<OutputTag, BufferSlot>();
    private readonly Dictionary<(OptimizerKind, long), ICompiledKernel> _kernels = [];
    private (ParameterSlot Slot, IDeviceBuffer Gradient)[]? _pairs;
    // Each pair's launch buffers (value, gradient, state), kept from step to step and rebuilt only when
    // the slot's state buffers were replaced (the optimizer's state count changed).
    private IDeviceBuffer[][]? _bound;
    // This step's scalars, with and without weight decay; refilled every step (the previous step's
    // launches have finished by then: the fetch waits for the device).
    private readonly float[] _scalars = new float[OptimizerScalars.Count], _noDecay = new float[OptimizerScalars.Count];
    // The buffer of each scalar output this system reads, by name (null: the graph has none), found once.
    private readonly Dictionary<string, IDeviceBuffer?> _outputs = new(StringComparer.Ordinal);
    // Host copies of the distinct gradient buffers, for an exchange; reused every step.
    private (IDeviceBuffer Buffer, float[] Host)[]? _exchanged;
    // Adam and AdamW over every parameter as one launch (OptimizerGroupSpec), where the backend has it.
    private (OptimizerKind Kind, ICompiledKernel? Kernel, IDeviceBuffer[] Buffers)? _group;

    public string Name => nameof(OptimizeSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(FrameContext), typeof(GradOf), typeof(BufferSlot), typeof(BufferTable), typeof(OutputTag), typeof(NameTable), typeof(TensorValues)],
        // A gradient exchange overwrites the gradients with their mean over ranks.
        writes: [typeof(ParameterValues), typeof(TensorValues), typeof(StepResults)]);

    public void Run(World world)
    {
        var context = world.Resource<FrameContext>();
        if (context.Update is not { } update) return;

        if (_pairs is null) FindPairs(world);

        // A step whose loss or gradient norm is not finite leaves the parameters as they were: the
        // run is failing anyway, and the parameters that produced the bad step are what a diagnosis
        // (NonFiniteDiagnosis) needs to find the op that overflowed. Under an exchange every rank must
        // take part in it, so it comes first, and the decision rests on the exchanged norm alone (the
        // same on every rank: a NaN on one reaches all); the trainer's mean loss stops them together.
        double? normSquared = context.Exchange is { } exchange ? Exchange(exchange) : ReadOutput(world, StepGraph.GradNormSquared);
        bool lossNotFinite = context.Exchange is null && ReadOutput(world, StepGraph.LossOutput) is { } loss && !double.IsFinite(loss);
        if (lossNotFinite || (normSquared is { } n && !double.IsFinite(n)))
        {
            context.UpdateSkipped = true;
            return;
        }

        var scalars = _scalars;
        update.Scalars.AsSpan(0, scalars.Length).CopyTo(scalars);
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
        var noDecay = _noDecay;
        scalars.CopyTo(noDecay, 0);
        noDecay[OptimizerScalars.WeightDecay] = 0f;
        var vectorLaunch = new LaunchParams(0, noDecay);
        if (context.Shards is null && GroupKernel(update.Kind) is { } group)
        {
            backend.Enqueue(group.Kernel, group.Buffers, in launch);
            return;
        }
        for (int p = 0; p < _pairs.Length; p++)
        {
            var slot = _pairs[p].Slot;
            if (context.Shards?.Owns(slot) == false) continue;    // ZeRO-1: another rank updates it
            if (!Binds(_bound![p], slot)) _bound[p] = [slot.Value, _pairs[p].Gradient, .. slot.State];
            var key = (update.Kind, slot.Elements);
            if (!_kernels.TryGetValue(key, out var kernel))
                _kernels[key] = kernel = backend.Compile(new OptimizerStepSpec(update.Kind, slot.Elements));
            var parameters = slot.Shape.Length >= 2 ? launch : vectorLaunch;
            backend.Enqueue(kernel, _bound![p], in parameters);
        }
        context.Shards?.GatherValues(backend);
    }

    /// <summary>
    /// Each parameter with its gradient's buffer, read from the world once. A method of its own: the
    /// compiler allocates a lambda's captures where the enclosing method starts, so inside
    /// <see cref="Run"/> this closure cost every step an allocation.
    /// </summary>
    [MemberNotNull(nameof(_pairs), nameof(_bound))]
    private void FindPairs(World world)
    {
        var pairs = new List<(ParameterSlot, IDeviceBuffer)>();
        var names = world.Resource<NameTable>();
        var buffers = world.Resource<BufferTable>();
        world.ForEach(in Gradients, (ref GradOf grad, ref BufferSlot slot) =>
        {
            foreach (var name in names[grad.Parameters]) pairs.Add((parameters.Get(name), buffers[slot.Buffer]));
        });
        _pairs = [.. pairs.OrderBy(p => p.Item1.Name, StringComparer.Ordinal)];
        _bound = [.. _pairs.Select(p => (IDeviceBuffer[])[p.Slot.Value, p.Gradient, .. p.Slot.State])];
    }

    /// <summary>Whether a launch's buffers are still the slot's: optimizer state is replaced when the state count changes.</summary>
    private static bool Binds(IDeviceBuffer[] bound, ParameterSlot slot)
    {
        if (bound.Length != 2 + slot.State.Length || !ReferenceEquals(bound[0], slot.Value)) return false;
        for (int i = 0; i < slot.State.Length; i++)
            if (!ReferenceEquals(bound[2 + i], slot.State[i])) return false;
        return true;
    }

    /// <summary>
    /// The one kernel that updates every parameter with <paramref name="kind"/>, and its buffers, or null
    /// when the kind has no grouped form or the backend does not run it (then each parameter has its own).
    /// Weight decay applies to the matrices only, as in the per-parameter launches. The buffers are
    /// gathered every step (into one array): a checkpoint load may replace a slot's value or state.
    /// </summary>
    private (ICompiledKernel Kernel, IDeviceBuffer[] Buffers)? GroupKernel(OptimizerKind kind)
    {
        var pairs = _pairs!;
        if (!Array.TrueForAll(pairs, p => p.Slot.State.Length == 2)) return null;
        if (_group is not { } group || group.Kind != kind)
        {
            ICompiledKernel? kernel = null;
            var spec = new OptimizerGroupSpec(kind, [.. pairs.Select(p => p.Slot.Elements)], [.. pairs.Select(p => p.Slot.Shape.Length >= 2)]);
            if (OptimizerGroupSpec.Groups(kind) && backend.SupportsOp(spec).IsSupported) kernel = backend.Compile(spec);
            _group = group = (kind, kernel, new IDeviceBuffer[OptimizerGroupSpec.BuffersPerParameter * pairs.Length]);
        }
        if (group.Kernel is null) return null;
        for (int i = 0; i < pairs.Length; i++)
        {
            var (slot, gradient) = pairs[i];
            int at = OptimizerGroupSpec.BuffersPerParameter * i;
            (group.Buffers[at], group.Buffers[at + 1], group.Buffers[at + 2], group.Buffers[at + 3]) = (slot.Value, gradient, slot.State[0], slot.State[1]);
        }
        return (group.Kernel, group.Buffers);
    }

    /// <summary>
    /// Downloads every distinct gradient, lets the exchange replace it (its mean over ranks), uploads it
    /// back, and returns the squared norm of the exchanged gradients: the graph's own norm would be of
    /// this rank's gradients only, and clipping must see the global one.
    /// </summary>
    private double Exchange(IGradientExchange exchange)
    {
        _exchanged ??= [.. _pairs!.DistinctBy(p => p.Gradient).Select(p => (p.Gradient, new float[p.Slot.Elements]))];
        backend.Wait();
        foreach (var (buffer, host) in _exchanged) backend.Download(buffer, host);
        exchange.Exchange([.. _exchanged.Select(e => (Memory<float>)e.Host)]);
        double sum = 0;
        foreach (var (buffer, host) in _exchanged)
        {
            backend.Upload(buffer, host);
            foreach (float g in host) sum += (double)g * g;
        }
        return sum;
    }

    /// <summary>The scalar output <paramref name="name"/> of this step, or null when the graph has none.</summary>
    private double? ReadOutput(World world, string name)
    {
        if (!_outputs.TryGetValue(name, out var buffer)) _outputs[name] = buffer = OutputBuffer(world, name);
        if (buffer is null) return null;
        Span<float> value = stackalloc float[1];
        backend.Wait();
        backend.Download(buffer, value);
        return value[0];
    }

    private static IDeviceBuffer? OutputBuffer(World world, string name)
    {
        IDeviceBuffer? found = null;
        var names = world.Resource<NameTable>();
        var buffers = world.Resource<BufferTable>();
        world.ForEach(in Outputs, (ref OutputTag tag, ref BufferSlot slot) =>
        {
            if (found is null && names[tag.Names].Contains(name)) found = buffers[slot.Buffer];
        });
        return found;
    }
}
