using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// A kernel as fusion (or a fused pattern) decides it, before it becomes a kernel entity: the spec
/// and the tensor entities it reads, writes and covers (in graph order; the last one's node salts
/// its random numbers). <see cref="Create"/> puts the handles in the world's tables.
/// </summary>
internal sealed record KernelDraft(KernelSpec Spec, Entity[] Inputs, Entity[] Outputs, Entity[] Members, bool UsesSeed = false)
{
    public Entity Create(World world, SpecTable specs, EntityList lists, int order) => world.Create(new KernelInfo
    {
        Spec = specs.Intern(Spec),
        Inputs = lists.Add(Inputs),
        Outputs = lists.Add(Outputs),
        Members = lists.Add(Members),
        Order = order,
        UsesSeed = UsesSeed,
    });
}
