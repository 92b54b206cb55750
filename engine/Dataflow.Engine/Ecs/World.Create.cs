namespace Dataflow.Engine.Ecs;

public sealed partial class World
{
    public Entity Create<T1>(in T1 c1)
    {
        var archetype = ArchetypeForCreate(ComponentType<T1>.Id);
        var entity = Allocate(archetype, out var chunk, out int row);
        chunk.GetRef<T1>(archetype.ColumnOf(ComponentType<T1>.Id), row) = c1;
        return entity;
    }

    public Entity Create<T1, T2>(in T1 c1, in T2 c2)
    {
        var archetype = ArchetypeForCreate(ComponentType<T1>.Id, ComponentType<T2>.Id);
        var entity = Allocate(archetype, out var chunk, out int row);
        chunk.GetRef<T1>(archetype.ColumnOf(ComponentType<T1>.Id), row) = c1;
        chunk.GetRef<T2>(archetype.ColumnOf(ComponentType<T2>.Id), row) = c2;
        return entity;
    }

    public Entity Create<T1, T2, T3>(in T1 c1, in T2 c2, in T3 c3)
    {
        var archetype = ArchetypeForCreate(ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id);
        var entity = Allocate(archetype, out var chunk, out int row);
        chunk.GetRef<T1>(archetype.ColumnOf(ComponentType<T1>.Id), row) = c1;
        chunk.GetRef<T2>(archetype.ColumnOf(ComponentType<T2>.Id), row) = c2;
        chunk.GetRef<T3>(archetype.ColumnOf(ComponentType<T3>.Id), row) = c3;
        return entity;
    }

    public Entity Create<T1, T2, T3, T4>(in T1 c1, in T2 c2, in T3 c3, in T4 c4)
    {
        var archetype = ArchetypeForCreate(ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id, ComponentType<T4>.Id);
        var entity = Allocate(archetype, out var chunk, out int row);
        chunk.GetRef<T1>(archetype.ColumnOf(ComponentType<T1>.Id), row) = c1;
        chunk.GetRef<T2>(archetype.ColumnOf(ComponentType<T2>.Id), row) = c2;
        chunk.GetRef<T3>(archetype.ColumnOf(ComponentType<T3>.Id), row) = c3;
        chunk.GetRef<T4>(archetype.ColumnOf(ComponentType<T4>.Id), row) = c4;
        return entity;
    }
}
