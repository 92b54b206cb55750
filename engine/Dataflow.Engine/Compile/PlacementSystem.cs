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
/// It makes the <see cref="BackendTable"/> (the chosen backend is index 0, its fallback 1).
/// </summary>
public sealed class PlacementSystem : ISystem
{
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo>();
    private static readonly QueryDescription Tensors = new QueryDescription().WithAll<TensorInfo>();
    private static readonly QueryDescription Aliases = new QueryDescription().WithAll<AliasOf>();

    public string Name => nameof(PlacementSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(CompileContext), typeof(SpecTable), typeof(EntityList), typeof(KernelInfo), typeof(TensorInfo), typeof(AliasOf)],
        writes: [typeof(BackendTable), typeof(SpecTable), typeof(EntityList), typeof(KernelInfo), typeof(Placement), typeof(CopyOf), typeof(Residence)]);

    public void Run(World world)
    {
        var (primary, fallback) = WithFallback.Split(world.Resource<CompileContext>().Backend);
        var backends = new BackendTable();
        backends.Intern(primary);
        if (fallback is not null) backends.Intern(fallback);
        world.SetResource(backends);
        var specs = world.Resource<SpecTable>();
        var kernels = new List<(Entity Kernel, KernelInfo Info)>();
        world.ForEachWithEntity(in Kernels, (Entity kernel, ref KernelInfo info) => kernels.Add((kernel, info)));
        kernels.Sort((a, b) => a.Info.Order.CompareTo(b.Info.Order));

        // In dispatch order, so the kernel named in an error is the first that cannot run.
        var chosen = new IBackend[kernels.Count];
        for (int i = 0; i < kernels.Count; i++) chosen[i] = Choose(primary, fallback, specs[kernels[i].Info.Spec]);
        if (chosen.All(b => ReferenceEquals(b, primary)))
        {
            foreach (var (kernel, _) in kernels) world.Add(kernel, new Placement { Backend = 0 });
            return;
        }
        new Rewiring(world, primary, backends, specs, world.Resource<EntityList>()).Run(kernels, chosen);
    }

    private static IBackend Choose(IBackend primary, IBackend? fallback, KernelSpec spec)
    {
        var support = primary.SupportsOp(spec);
        if (support.IsSupported) return primary;
        if (fallback is null)
            throw new CompileException($"backend {primary.Name} cannot run kernel {spec.DisplayName}: {support.Reason}");
        var there = fallback.SupportsOp(spec);
        if (!there.IsSupported)
            throw new CompileException($"backend {primary.Name} cannot run kernel {spec.DisplayName} ({support.Reason}), nor can its fallback {fallback.Name} ({there.Reason})");
        return fallback;
    }

    /// <summary>The copies and renumbering for a placement that uses both backends.</summary>
    private sealed class Rewiring(World world, IBackend primary, BackendTable backends, SpecTable specs, EntityList lists)
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
                // Rewired in place: a kernel keeps its operand count, only which tensors they are changes.
                var inputs = lists[info.Inputs].ToArray();
                for (int i = 0; i < inputs.Length; i++) lists.Set(info.Inputs, i, On(inputs[i], backend));
                var copiesBack = new List<(Entity From, Entity To)>();
                if (!ReferenceEquals(backend, primary))
                {
                    var outputs = lists[info.Outputs].ToArray();
                    for (int o = 0; o < outputs.Length; o++)
                    {
                        var output = outputs[o];
                        if (_aliasSource.ContainsKey(output))
                            throw new CompileException($"kernel {specs[info.Spec].DisplayName} writes its output in place and cannot fall back to {backend.Name}: {primary.SupportsOp(specs[info.Spec]).Reason}");
                        if (!_pinnedStorage.Contains(output))
                        {
                            _home[output] = backend;
                            world.Add(output, new Residence { Backend = backends.Intern(backend) });
                            continue;
                        }
                        var copy = CopyTensor(output, backend);
                        copiesBack.Add((copy, output));
                        lists.Set(info.Outputs, o, copy);
                    }
                }
                _dispatch.Add((kernel, info, backend));
                foreach (var (from, to) in copiesBack) AddCopyKernel(from, to, backend, primary);
            }

            for (int order = 0; order < _dispatch.Count; order++)
            {
                var (kernel, info, backend) = _dispatch[order];
                info.Order = order;
                var placement = new Placement { Backend = backends.Intern(backend) };
                if (kernel == Entity.Null) world.Create(info, placement);
                else
                {
                    world.Get<KernelInfo>(kernel) = info;
                    world.Add(kernel, placement);
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
            AddCopyKernel(tensor, copy, home, backend);
            return copy;
        }

        private Entity CopyTensor(Entity of, IBackend backend)
        {
            var copy = world.Create(new CopyOf { Source = of }, new Residence { Backend = backends.Intern(backend) });
            _copies[(of, backend)] = copy;
            return copy;
        }

        /// <summary>A copy kernel from <paramref name="from"/> to <paramref name="to"/>; it covers the value's own tensor (the one that is not a copy).</summary>
        private void AddCopyKernel(Entity from, Entity to, IBackend source, IBackend destination)
        {
            var value = world.Has<CopyOf>(from) ? world.Get<CopyOf>(from).Source : from;
            var desc = world.Get<TensorInfo>(value).Desc;
            _dispatch.Add((Entity.Null, new KernelInfo
            {
                Spec = specs.Intern(new TransferSpec(desc, source.Name, destination.Name)),
                Inputs = lists.Add([from]),
                Outputs = lists.Add([to]),
                Members = lists.Add([value]),
            }, destination));
        }
    }
}
