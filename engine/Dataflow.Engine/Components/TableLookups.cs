using Dataflow.Engine.Backends;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Components;

/// <summary>
/// A component's handles resolved through the world's tables, for code that reads a compiled world
/// from outside its systems (sessions, diagnosis, tools, tests). Each looks its table up, so a
/// system inside a loop should take the table once instead (and declare it in its access).
/// </summary>
public static class TableLookups
{
    public static KernelSpec Spec(this World world, in KernelInfo kernel) => world.Resource<SpecTable>()[kernel.Spec];

    public static Entity[] Inputs(this World world, in KernelInfo kernel) => world.Resource<EntityList>()[kernel.Inputs].ToArray();

    public static Entity[] Outputs(this World world, in KernelInfo kernel) => world.Resource<EntityList>()[kernel.Outputs].ToArray();

    /// <summary>The tensor entities of the graph nodes a kernel covers, in graph order.</summary>
    public static Entity[] Members(this World world, in KernelInfo kernel) => world.Resource<EntityList>()[kernel.Members].ToArray();

    /// <summary>The layer a loaded tensor's node was lowered from (<see cref="LayerScope"/>); empty at top level.</summary>
    public static string Scope(this World world, Entity tensor) => world.Resource<NameTable>()[world.Get<LayerScope>(tensor).Name];

    public static IBackend Backend(this World world, in Placement placement) => world.Resource<BackendTable>()[placement.Backend];

    public static IBackend Backend(this World world, in Residence residence) => world.Resource<BackendTable>()[residence.Backend];

    public static IDeviceBuffer Buffer(this World world, Entity tensor) => world.Resource<BufferTable>()[world.Get<BufferSlot>(tensor).Buffer];

    public static ICompiledKernel Compiled(this World world, Entity kernel) => world.Resource<KernelTable>()[world.Get<CompiledKernel>(kernel).Kernel];

    public static string Name(this World world, int name) => world.Resource<NameTable>()[name];

    /// <summary>A tensor's bound shape; a copy placement made has its source's.</summary>
    public static TensorInfo Shape(this World world, Entity tensor) =>
        world.Get<TensorInfo>(world.Has<CopyOf>(tensor) ? world.Get<CopyOf>(tensor).Source : tensor);

    /// <summary>The buffers a kernel is launched on, as compilation bound them (<see cref="LaunchBinding"/>): its inputs' then its outputs'.</summary>
    public static IDeviceBuffer[] LaunchBuffers(this World world, Entity kernel)
    {
        var indices = world.Resource<BindingList>()[world.Get<LaunchBinding>(kernel).Buffers];
        var buffers = world.Resource<BufferTable>();
        var result = new IDeviceBuffer[indices.Length];
        for (int i = 0; i < indices.Length; i++) result[i] = buffers[indices[i]];
        return result;
    }

    /// <summary>The salt a kernel's random numbers are drawn with: the graph id of the last node it covers, so fusion choices do not move a seeded run.</summary>
    public static ulong SeedSalt(this World world, in KernelInfo kernel)
    {
        var members = world.Resource<EntityList>()[kernel.Members];
        return (ulong)world.Get<TensorOp>(members[^1]).Id;
    }
}
