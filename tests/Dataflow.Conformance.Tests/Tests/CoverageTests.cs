using Dataflow.Conformance.Reporting;

namespace Dataflow.Conformance.Tests;

/// <summary>Adding an op to the catalog without a conformance case fails here, naming the op.</summary>
public sealed class CoverageTests
{
    [Fact]
    public void EveryCatalogOpHasACase()
    {
        var coverage = Coverage.Of(ConformanceSuite.Cases);
        Assert.True(coverage.Missing.Count == 0, coverage.ToString());
        Assert.Equal(coverage.CatalogOps, coverage.CoveredOps);
    }
}
