using System.Runtime.CompilerServices;
using Dataflow.Engine.Ecs;

namespace Dataflow.Tests.Support;

/// <summary>Tests run with the ECS's checks on: every schedule is strict about ambiguous orders and every system is held to its declared access.</summary>
internal static class EcsChecksOn
{
#pragma warning disable CA2255 // a test assembly is where this belongs: it must hold before any test builds a schedule
    [ModuleInitializer]
    internal static void TurnOn() => EcsChecks.Enabled = true;
#pragma warning restore CA2255
}
