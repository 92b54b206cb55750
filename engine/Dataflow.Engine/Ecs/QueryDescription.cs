namespace Dataflow.Engine.Ecs;

/// <summary>
/// Which entities a query matches: all of <c>WithAll</c>, at least one of <c>WithAny</c> (when
/// given), none of <c>WithNone</c>. Each call adds to the set it names, so calls chain:
/// <c>new QueryDescription().WithAll&lt;Op&gt;().WithNone&lt;Kernel&gt;()</c>. The empty description
/// matches every entity. Equal descriptions share one cached <see cref="Query"/>.
/// </summary>
public readonly struct QueryDescription : IEquatable<QueryDescription>
{
    internal readonly ComponentMask All;
    internal readonly ComponentMask Any;
    internal readonly ComponentMask None;

    private QueryDescription(ComponentMask all, ComponentMask any, ComponentMask none)
    {
        All = all;
        Any = any;
        None = none;
    }

    public QueryDescription WithAll<T1>() => new(Add(All, ComponentType<T1>.Id), Any, None);

    public QueryDescription WithAll<T1, T2>() => new(Add(All, ComponentType<T1>.Id, ComponentType<T2>.Id), Any, None);

    public QueryDescription WithAll<T1, T2, T3>() => new(Add(All, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id), Any, None);

    public QueryDescription WithAll<T1, T2, T3, T4>() => new(Add(All, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id, ComponentType<T4>.Id), Any, None);

    public QueryDescription WithAny<T1>() => new(All, Add(Any, ComponentType<T1>.Id), None);

    public QueryDescription WithAny<T1, T2>() => new(All, Add(Any, ComponentType<T1>.Id, ComponentType<T2>.Id), None);

    public QueryDescription WithAny<T1, T2, T3>() => new(All, Add(Any, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id), None);

    public QueryDescription WithAny<T1, T2, T3, T4>() => new(All, Add(Any, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id, ComponentType<T4>.Id), None);

    public QueryDescription WithNone<T1>() => new(All, Any, Add(None, ComponentType<T1>.Id));

    public QueryDescription WithNone<T1, T2>() => new(All, Any, Add(None, ComponentType<T1>.Id, ComponentType<T2>.Id));

    public QueryDescription WithNone<T1, T2, T3>() => new(All, Any, Add(None, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id));

    public QueryDescription WithNone<T1, T2, T3, T4>() => new(All, Any, Add(None, ComponentType<T1>.Id, ComponentType<T2>.Id, ComponentType<T3>.Id, ComponentType<T4>.Id));

    internal QueryDescription WithAllIds(ReadOnlySpan<int> ids) => new(Add(All, ids), Any, None);

    internal bool Matches(ComponentMask archetype) =>
        archetype.ContainsAll(All) && (Any.IsEmpty || archetype.Intersects(Any)) && !archetype.Intersects(None);

    private static ComponentMask Add(ComponentMask mask, params ReadOnlySpan<int> ids)
    {
        foreach (int id in ids) mask = mask.With(id);
        return mask;
    }

    public bool Equals(QueryDescription other) => All.Equals(other.All) && Any.Equals(other.Any) && None.Equals(other.None);

    public override bool Equals(object? obj) => obj is QueryDescription d && Equals(d);

    public override int GetHashCode() => HashCode.Combine(All, Any, None);

    public static bool operator ==(QueryDescription a, QueryDescription b) => a.Equals(b);

    public static bool operator !=(QueryDescription a, QueryDescription b) => !a.Equals(b);

    public override string ToString() => $"All{All.Describe()} Any{Any.Describe()} None{None.Describe()}";
}
