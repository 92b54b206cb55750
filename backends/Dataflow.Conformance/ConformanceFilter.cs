namespace Dataflow.Conformance;

/// <summary>Which cases and backends a run covers; null fields match everything (<c>dataflow conformance --op X --backend Y</c>).</summary>
public sealed record ConformanceFilter(string? Op = null, string? Backend = null, string? Case = null)
{
    public static readonly ConformanceFilter All = new();

    public bool Matches(ConformanceCase c) =>
        (Op is null || string.Equals(Op, c.Op, StringComparison.OrdinalIgnoreCase)) &&
        (Case is null || c.Name.Contains(Case, StringComparison.OrdinalIgnoreCase));

    public bool Matches(string backend) => Backend is null || string.Equals(Backend, backend, StringComparison.OrdinalIgnoreCase);
}
