using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Gives every tensor a buffer. Parameters and states live in the session's stores; inputs and outputs get
/// buffers of their own that no other tensor may overwrite; every other tensor lives from the
/// kernel that writes it to the last kernel that reads it, and tensors whose lifetimes do not
/// overlap share a slot (best fit by size). Aliases share their source's buffer and extend its life.
/// Copies that placement made (<see cref="CopyOf"/>) are planned like any other tensor, on the backend
/// they reside on (<see cref="Residence"/>); slots are shared only between tensors of one backend.
/// It makes the <see cref="BufferTable"/> that <see cref="BufferSlot"/> indexes.
/// </summary>
public sealed class MemoryPlanningSystem : ISystem, IDeferredChanges
{
    private static readonly QueryDescription Tensors = new QueryDescription().WithAll<TensorOp>();
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo>();
    private static readonly QueryDescription Copies = new QueryDescription().WithAll<CopyOf>();

    // Per run.
    private CompileContext _context = null!;
    private ProgramBuffers _buffers = null!;
    private BackendTable _backends = null!;

    public string Name => nameof(MemoryPlanningSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(CompileContext), typeof(NameTable), typeof(BackendTable), typeof(EntityList), typeof(TensorOp), typeof(KernelInfo), typeof(TensorInfo), typeof(AliasOf), typeof(ParamTag), typeof(StateTag), typeof(CopyOf), typeof(Residence)],
        // InputTag, OutputTag and GradOf are only tested for presence (World.Has), which is not an access.
        writes: [typeof(BufferTable), typeof(BufferSlot), typeof(ProgramBuffers)]);

    public CommandBuffer Commands { get; } = new();

    public void Run(World world)
    {
        _context = world.Resource<CompileContext>();
        _buffers = world.Resource<ProgramBuffers>();
        var context = _context;
        var names = world.Resource<NameTable>();
        var lists = world.Resource<EntityList>();
        _backends = world.Resource<BackendTable>();
        var bufferTable = new BufferTable();
        world.SetResource(bufferTable);
        // Tensors in graph order and kernels in dispatch order, so the plan (and the order buffers
        // are allocated in) does not depend on how the world stores them.
        var nodeOf = new Dictionary<Entity, int>();
        world.ForEachWithEntity(in Tensors, (Entity entity, ref TensorOp op) => nodeOf[entity] = op.Id);
        var tensors = nodeOf.OrderBy(t => t.Value).Select(t => t.Key).ToList();
        var copies = new List<Entity>();
        world.ForEachWithEntity(in Copies, (Entity entity, ref CopyOf _) => copies.Add(entity));
        tensors.AddRange(copies.OrderBy(c => c.Id));
        var kernelList = new List<KernelInfo>();
        world.ForEach(in Kernels, (ref KernelInfo info) => kernelList.Add(info));
        var kernels = kernelList.OrderBy(k => k.Order).ToList();

        var storageOf = new Dictionary<Entity, Entity>();
        Entity Storage(Entity tensor)
        {
            if (storageOf.TryGetValue(tensor, out var root)) return root;
            root = world.Has<AliasOf>(tensor) ? Storage(world.Get<AliasOf>(tensor).Source) : tensor;
            return storageOf[tensor] = root;
        }

        // Tensors that must survive the step (or are written from outside) never share.
        var pinned = new HashSet<Entity>();
        foreach (var tensor in tensors)
        {
            if (world.Has<InputTag>(tensor) || world.Has<ParamTag>(tensor) || world.Has<StateTag>(tensor) || world.Has<OutputTag>(tensor) || world.Has<GradOf>(tensor))
                pinned.Add(Storage(tensor));
        }

        // Lifetimes of transient storage roots, in kernel order.
        var firstWrite = new Dictionary<Entity, int>();
        var lastRead = new Dictionary<Entity, int>();
        foreach (var info in kernels)
        {
            foreach (var output in lists[info.Outputs]) firstWrite.TryAdd(Storage(output), info.Order);
            foreach (var input in lists[info.Inputs]) lastRead[Storage(input)] = info.Order;
        }

        var slotSizes = new List<long>();
        var slotBackends = new List<IBackend>();
        var slotOf = new Dictionary<Entity, int>();
        var freeAt = new List<(int Order, int Slot)>();
        var free = new List<int>();
        foreach (var kernel in kernels)
        {
            int order = kernel.Order;
            // Release slots whose last reader ran before this kernel (never the kernel's own inputs).
            for (int i = freeAt.Count - 1; i >= 0; i--)
                if (freeAt[i].Order < order) { free.Add(freeAt[i].Slot); freeAt.RemoveAt(i); }

            foreach (var output in lists[kernel.Outputs])
            {
                var root = Storage(output);
                if (pinned.Contains(root) || slotOf.ContainsKey(root)) continue;
                long need = Elements(world, root);
                var backend = BackendOf(world, root);
                int slot = context.Options.ReuseBuffers ? TakeBestFit(free, slotSizes, need, s => ReferenceEquals(slotBackends[s], backend)) : -1;
                if (slot < 0) { slot = slotSizes.Count; slotSizes.Add(need); slotBackends.Add(backend); }
                slotSizes[slot] = Math.Max(slotSizes[slot], need);
                slotOf[root] = slot;
                freeAt.Add((lastRead.GetValueOrDefault(root, order), slot));
            }
        }

        // Refuse a plan that cannot fit before allocating any of it: the transient slots plus every
        // tensor that keeps its own buffer (parameters are already allocated and are not counted).
        var ownBuffers = tensors.Select(Storage).Distinct()
            .Where(r => !world.Has<ParamTag>(r) && !slotOf.ContainsKey(r)).Select(r => Math.Max(1, Elements(world, r)));
        foreach (var size in slotSizes.Concat(ownBuffers)) MemoryBudget.RequireBuffer(context.Backend.Name, size, long.MaxValue / sizeof(float));
        MemoryBudget.Require(context.Backend, MemoryBudget.Bytes(slotSizes.Concat(ownBuffers), "the planned buffers"), "the buffers of this graph");

        var slotBuffers = slotSizes.Select((size, slot) => Allocate(slotBackends[slot], size)).ToArray();
        _buffers.TransientElements = slotSizes.Sum();
        _buffers.UnplannedElements = slotOf.Keys.Sum(r => Elements(world, r));

        var pinnedBuffers = new Dictionary<Entity, IDeviceBuffer>();
        foreach (var tensor in tensors)
        {
            var root = Storage(tensor);
            IDeviceBuffer buffer;
            int slot = -1;
            if (world.Has<ParamTag>(root))
                buffer = context.Parameters.Get(names[world.Get<ParamTag>(root).Name]).Value;
            else if (world.Has<StateTag>(root) && !pinnedBuffers.TryGetValue(root, out buffer!))
                pinnedBuffers[root] = buffer = StateBuffer(names[world.Get<StateTag>(root).Name], Elements(world, root));
            else if (slotOf.TryGetValue(root, out slot))
                buffer = slotBuffers[slot];
            else if (!pinnedBuffers.TryGetValue(root, out buffer!))
                pinnedBuffers[root] = buffer = Allocate(BackendOf(world, root), Elements(world, root));
            Commands.Add(tensor, new BufferSlot { Buffer = bufferTable.Intern(buffer), Slot = slot });
        }
    }

    private static int TakeBestFit(List<int> free, List<long> sizes, long need, Func<int, bool> usable)
    {
        int best = -1;
        for (int i = 0; i < free.Count; i++)
        {
            if (!usable(free[i])) continue;
            var size = sizes[free[i]];
            if (best < 0) { best = i; continue; }
            var bestSize = sizes[free[best]];
            // Prefer the smallest slot that fits; if none fits, the largest (it grows least).
            bool fits = size >= need, bestFits = bestSize >= need;
            if ((fits && (!bestFits || size < bestSize)) || (!fits && !bestFits && size > bestSize)) best = i;
        }
        if (best < 0) return -1;
        int slot = free[best];
        free.RemoveAt(best);
        return slot;
    }

    private static long Elements(World world, Entity tensor) =>
        world.Has<CopyOf>(tensor) ? Elements(world, world.Get<CopyOf>(tensor).Source) : world.Get<TensorInfo>(tensor).Elements;

    private IBackend BackendOf(World world, Entity tensor) => world.Has<Residence>(tensor) ? _backends[world.Get<Residence>(tensor).Backend] : _context.Backend;

    private IDeviceBuffer StateBuffer(string name, long elements)
    {
        if (_context.States is { } states) return states.Get(name, elements);
        var buffer = Allocate(_context.Backend, elements);
        _context.Backend.Upload(buffer, new float[buffer.Elements]);
        return buffer;
    }

    private IDeviceBuffer Allocate(IBackend backend, long elements)
    {
        var buffer = backend.Allocate(Math.Max(1, elements));
        _buffers.Owned.Add(buffer);
        return buffer;
    }
}
