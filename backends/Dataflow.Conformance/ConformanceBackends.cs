using System.Collections.Concurrent;
using Dataflow.Backends;
using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;

namespace Dataflow.Conformance;

/// <summary>A backend the suite knows by name, and whether this machine provides it.</summary>
public sealed record BackendAvailability(string Name, IBackend? Backend, string? AbsentReason, bool Expected)
{
    public bool IsPresent => Backend is not null;
}

/// <summary>
/// The backends under test (each made by <see cref="BackendCatalog"/>). A backend whose factory throws
/// <see cref="BackendUnavailableException"/> is absent (with the reason); that is an error only
/// where the backend is expected: the CPU backend always, others when named in
/// <see cref="ExpectVariable"/> (set it on machines that are meant to have the device, such as CI
/// with PoCL, so that a broken driver setup fails instead of silently testing nothing).
/// </summary>
public static class ConformanceBackends
{
    public const string ExpectVariable = "DATAFLOW_CONFORMANCE_EXPECT";


    private static readonly ConcurrentDictionary<string, BackendAvailability> Opened = new(StringComparer.Ordinal);
    private static readonly Lazy<IBackend> ReferenceBackend = new(() => new CpuBackend());

    public static IReadOnlyList<string> Names { get; } = ["cpu", "opencl", "vulkan"];

    /// <summary>The CPU backend that computes the reference results; separate from the "cpu" backend under test.</summary>
    public static IBackend Reference => ReferenceBackend.Value;

    public static bool IsExpected(string name) =>
        name == "cpu" ||
        (Environment.GetEnvironmentVariable(ExpectVariable) ?? "")
            .Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries)
            .Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Opens a backend once per process (a device context and its kernel cache are shared by every case).</summary>
    public static BackendAvailability Open(string name) => Opened.GetOrAdd(name, static n =>
    {
        if (!Names.Contains(n)) throw new ArgumentException($"unknown backend '{n}' (known: {string.Join(", ", Names)})");
        try
        {
            return new BackendAvailability(n, BackendCatalog.Create(n), null, IsExpected(n));
        }
        catch (BackendUnavailableException e)
        {
            return new BackendAvailability(n, null, e.Message, IsExpected(n));
        }
    });
}
