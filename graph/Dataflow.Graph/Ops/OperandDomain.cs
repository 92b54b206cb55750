namespace Dataflow.Graph.Ops;

/// <summary>
/// Where an elementwise op's operand may be sampled: the op is defined there and smooth enough for
/// finite differences (no pole, branch cut or kink in the sampled part). The test harnesses each map
/// a domain to a sampling range of their own, so a new op with one of these domains is covered by
/// the conformance suite and the gradient checks without a line of test code.
/// </summary>
public enum OperandDomain : byte
{
    /// <summary>Every real number.</summary>
    Real,

    /// <summary>Positive numbers only (log, sqrt; recip and a divisor, kept away from their pole at 0).</summary>
    Positive,
}
