namespace Dataflow.Conformance.Cases;

/// <summary>Every case of the suite, in report order. Adding an op means adding its cases to one of these lists.</summary>
public static class ConformanceCases
{
    private static readonly Lazy<IReadOnlyList<ConformanceCase>> Cases = new(() =>
    {
        var all = LeafCases.All()
            .Concat(ElementwiseCases.All())
            .Concat(ReductionCases.All())
            .Concat(MovementCases.All())
            .Concat(MatMulCases.All())
            .Concat(IndexCases.All())
            .Concat(CachedAttentionCases.All())
            .Concat(FusedPatternCases.All())
            .Concat(PolicyLossCases.All())
            .Concat(ModelCases.All())
            .ToList();
        var duplicate = all.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"two conformance cases are named '{duplicate.Key}'");
        return all;
    });

    public static IReadOnlyList<ConformanceCase> All => Cases.Value;
}
