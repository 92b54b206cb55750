using Dataflow.Graph.Ops;

namespace Dataflow.Conformance.Reporting;

/// <summary>Which catalog ops the cases cover. Input and Parameter count when some case's graph uses them (they are the leaves every case is fed through).</summary>
public sealed record Coverage(int CatalogOps, int CoveredOps, IReadOnlyList<string> Missing)
{
    public static Coverage Of(IReadOnlyList<ConformanceCase> cases)
    {
        var named = cases.Select(c => c.Op).ToHashSet(StringComparer.Ordinal);
        var used = cases.SelectMany(c => c.BuildGraph().Nodes.Select(n => n.Op)).ToHashSet();
        var missing = OpCatalog.All
            .Where(def => !(def.Code is OpCode.Input or OpCode.Parameter ? used.Contains(def.Code) : named.Contains(def.Name)))
            .Select(def => def.Name)
            .ToList();
        return new Coverage(OpCatalog.All.Count, OpCatalog.All.Count - missing.Count, missing);
    }

    public override string ToString() =>
        $"ops in catalog: {CatalogOps}, ops with cases: {CoveredOps}" + (Missing.Count > 0 ? $" (missing: {string.Join(", ", Missing)})" : "");
}
