using Dataflow.Backends.Cpu;
using Dataflow.Conformance.Harness;
using Dataflow.Conformance.Reporting;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;

namespace Dataflow.Conformance.Tests;

/// <summary>
/// The suite's own alarms must ring: a backend that writes past a buffer, computes a wrong value,
/// or refuses an op is failed or skipped, never passed. Each uses a faulty decorator around the
/// CPU backend.
/// </summary>
public sealed class HarnessSelfTests
{
    private static readonly ConformanceCase MatMul = ConformanceSuite.Case("matmul/plain[17,65]x[65,33]");

    [Fact]
    public void AnOverrunPastTheOutputFailsTheCase()
    {
        using var backend = new FaultyBackend(new CpuBackend()) { Overrun = true };
        var result = ConformanceSuite.RunCase(MatMul, "overrunning", backend);
        Assert.Equal(CaseStatus.Fail, result.Status);
        Assert.Contains(result.Failures, f => f.Contains("wrote past the end") && f.Contains("matmul"));
    }

    [Fact]
    public void AWrongValueFailsTheCase()
    {
        using var backend = new FaultyBackend(new CpuBackend()) { Perturb = true };
        var result = ConformanceSuite.RunCase(MatMul, "perturbing", backend);
        Assert.Equal(CaseStatus.Fail, result.Status);
        Assert.Contains(result.Failures, f => f.StartsWith("fused: y", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnsupportedOpIsSkippedWithTheBackendsReason()
    {
        using var backend = new FaultyBackend(new CpuBackend()) { Refuse = OpCode.MatMul };
        var result = ConformanceSuite.RunCase(MatMul, "refusing", backend);
        Assert.Equal(CaseStatus.Skip, result.Status);
        Assert.Contains("no matmul here", result.SkipReason);
    }

    [Fact]
    public void NonFiniteValuesMustMatchInKind()
    {
        Assert.NotNull(ErrorMetrics.Compare([float.NaN], [1.0]).Mismatch);
        Assert.NotNull(ErrorMetrics.Compare([1f], [double.NaN]).Mismatch);
        Assert.NotNull(ErrorMetrics.Compare([float.PositiveInfinity], [double.NegativeInfinity]).Mismatch);
        Assert.Equal(Comparison.Exact, ErrorMetrics.Compare([float.NegativeInfinity, 2f], [double.NegativeInfinity, 2.0]));
        Assert.Equal(0.5, ErrorMetrics.Compare([1f, 1f], [2.0, 0.0]).Nmse); // Σ(a−b)² / Σb² = (1 + 1) / 4
    }

    /// <summary>The CPU backend with one fault switched on: an overrun after each launch, a perturbed output, or a refused op.</summary>
    private sealed class FaultyBackend(CpuBackend inner) : ForwardingBackend(inner)
    {
        public bool Overrun { get; init; }
        public bool Perturb { get; init; }
        public OpCode? Refuse { get; init; }

        public override string Name => "faulty";

        public override Support SupportsOp(KernelSpec spec) =>
            spec is OpKernelSpec op && op.Op == Refuse ? Support.No("no matmul here") : Inner.SupportsOp(spec);

        public override void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch)
        {
            Inner.Enqueue(kernel, buffers, in launch);
            if (kernel.Spec is not OpKernelSpec { Op: OpCode.MatMul } spec) return;
            var output = buffers[^1];
            if (Overrun && output.Elements > spec.Output.Elements)
                Inner.Upload(output, [42f], spec.Output.Elements); // one element past the tensor, as an off-by-one would
            if (Perturb)
            {
                Span<float> first = stackalloc float[1];
                Inner.Download(output, first);
                Inner.Upload(output, [first[0] + 1f]);
            }
        }
    }
}
