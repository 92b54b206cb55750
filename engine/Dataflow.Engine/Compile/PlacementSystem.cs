using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Decides which backend runs each kernel, asking per kernel (ggml's <c>supports_op</c>): the chosen
/// backend where it supports the kernel, else its fallback (<see cref="WithFallback"/>, the CPU),
/// else a <see cref="CompileException"/> naming the first kernel that cannot run. Where a kernel
/// reads a value that lives on the other backend, a copy tensor (<see cref="CopyOf"/>) and a copy
/// kernel (<see cref="TransferSpec"/>) are inserted before it, once per value and backend; a
/// fallback kernel's result that must stay on the chosen backend (an output, a gradient, anything
/// pinned there) is written to a copy on the fallback and copied back right after. The kernels are
/// then renumbered in dispatch order, so memory planning sees the copies like any other kernel.
/// Runs after fusion and before memory planning; alone in its batch, so it changes the world directly.
/// </summary>
public sealed class PlacementSystem : ISystem
{
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo>();
    private static readonly QueryDescription Tensors = new QueryDescription().WithAll<TensorInfo>();
    private static readonly QueryDescription Aliases = new QueryDescription().WithAll<AliasOf>();

    public string Name => nameof(PlacementSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(CompileContext), typeof(KernelInfo), typeof(TensorInfo), typeof(TensorNode), typeof(AliasOf)],
        writes: [typeof(KernelInfo), typeof(Placement), typeof(CopyOf), typeof(Residence)]);

    public void Run(World world)
    {
        var (primary, fallback) = WithFallback.Split(world.Resource<CompileContext>().Backend);
        var kernels = new List<(Entity Kernel, KernelInfo Info)>();
        world.ForEachWithEntity(in Kernels, (Entity kernel, ref KernelInfo info) => kernels.Add((kernel, info)));
        kernels.Sort((a, b) => a.Info.Order.CompareTo(b.Info.Order));

        // In dispatch order, so the kernel named in an error is the first that cannot run.
        var chosen = new IBackend[kernels.Count];
        for (int i = 0; i < kernels.Count; i++) chosen[i] = Choose(primary, fallback, kernels[i].Info);
        if (chosen.All(b => ReferenceEquals(b, primary)))
        {
            foreach (var (kernel, _) in kernels) world.Add(kernel, new Placement { Backend = primary });
            return;
        }
        new Rewiring(world, primary).Run(kernels, chosen);
    }

    private static IBackend Choose(IBackend primary, IBackend? fallback, in KernelInfo info)
    {
        var support = primary.SupportsOp(info.Spec);
        if (support.IsSupported) return primary;
        if (fallback is null)
            throw new CompileException($"backend {primary.Name} cannot run kernel {info.Spec.DisplayName}: {support.Reason}");
        var there = fallback.SupportsOp(info.Spec);
        if (!there.IsSupported)
            throw new CompileException($"backend {primary.Name} cannot run kernel {info.Spec.DisplayName} ({support.Reason}), nor can its fallback {fallback.Name} ({there.Reason})");
        return fallback;
    }

    /// <summary>The copies and renumbering for a placement that uses both backends.</summary>
    private sealed class Rewiring(World world, IBackend primary)
    {
        private readonly Dictionary<Entity, Entity> _aliasSource = [];
        private readonly HashSet<Entity> _pinnedStorage = [];
        // Where each storage root's value lives when not on the primary backend.
        private readonly Dictionary<Entity, IBackend> _home = [];
        // The copy of a tensor's value on a backend where it does not live.
        private readonly Dictionary<(Entity Tensor, IBackend Backend), Entity> _copies = [];
        private readonly List<(Entity Kernel, KernelInfo Info, IBackend Backend)> _dispatch = [];

        public void Run(List<(Entity Kernel, KernelInfo Info)> kernels, IBackend[] chosen)
        {
            world.ForEachWithEntity(in Aliases, (Entity tensor, ref AliasOf alias) => _aliasSource[tensor] = alias.Source);
            // Values the session or the frame systems reach on the primary backend: inputs, parameters,
            // states, outputs and gradients, and whatever shares their storage.
            world.ForEachWithEntity(in Tensors, (Entity tensor, ref TensorInfo _) =>
            {
                if (world.Has<InputTag>(tensor) || world.Has<ParamTag>(tensor) || world.Has<StateTag>(tensor) || world.Has<OutputTag>(tensor) || world.Has<GradOf>(tensor))
                    _pinnedStorage.Add(Storage(tensor));
            });

            for (int k = 0; k < kernels.Count; k++)
            {
                var (kernel, info) = kernels[k];
                var backend = chosen[k];
                info.Inputs = [.. info.Inputs.Select(input => On(input, backend))];
                var copiesBack = new List<(Entity From, Entity To)>();
                if (!ReferenceEquals(backend, primary))
                {
                    info.Outputs = [.. info.Outputs.Select(output =>
                    {
                        if (_aliasSource.ContainsKey(output))
                            throw new CompileException($"kernel {info.Spec.DisplayName} writes its output in place and cannot fall back to {backend.Name}: {primary.Name} does not support it");
                        if (!_pinnedStorage.Contains(output))
                        {
                            _home[output] = backend;
                            world.Add(output, new Residence { Backend = backend });
                            return output;
                        }
                        var copy = CopyTensor(output, backend);
                        copiesBack.Add((copy, output));
                        return copy;
                    })];
                }
                _dispatch.Add((kernel, info, backend));
                foreach (var (from, to) in copiesBack) AddCopyKernel(from, to, world.Get<TensorNode>(to), backend, primary);
            }

            for (int order = 0; order < _dispatch.Count; order++)
            {
                var (kernel, info, backend) = _dispatch[order];
                info.Order = order;
                if (kernel == Entity.Null) world.Create(info, new Placement { Backend = backend });
                else
                {
                    world.Get<KernelInfo>(kernel) = info;
                    world.Add(kernel, new Placement { Backend = backend });
                }
            }
        }

        private Entity Storage(Entity tensor)
        {
            while (_aliasSource.TryGetValue(tensor, out var source)) tensor = source;
            return tensor;
        }

        private IBackend Home(Entity tensor) => _home.GetValueOrDefault(Storage(tensor), primary);

        /// <summary>The tensor holding <paramref name="tensor"/>'s value on <paramref name="backend"/>: itself, or a copy made once, before its first reader there.</summary>
        private Entity On(Entity tensor, IBackend backend)
        {
            var home = Home(tensor);
            if (ReferenceEquals(home, backend)) return tensor;
            if (_copies.TryGetValue((tensor, backend), out var copy)) return copy;
            copy = CopyTensor(tensor, backend);
            AddCopyKernel(tensor, copy, world.Get<TensorNode>(tensor), home, backend);
            return copy;
        }

        private Entity CopyTensor(Entity of, IBackend backend)
        {
            var copy = world.Create(new CopyOf { Source = of }, new Residence { Backend = backend });
            _copies[(of, backend)] = copy;
            return copy;
        }

        private void AddCopyKernel(Entity from, Entity to, TensorNode value, IBackend source, IBackend destination)
        {
            var desc = world.Get<TensorInfo>(world.Has<CopyOf>(from) ? world.Get<CopyOf>(from).Source : from).Desc;
            _dispatch.Add((Entity.Null, new KernelInfo
            {
                Spec = new TransferSpec(desc, source.Name, destination.Name),
                Inputs = [from],
                Outputs = [to],
                Nodes = [value.Node],
            }, destination));
        }
    }
}
