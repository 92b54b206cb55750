using Dataflow.Backends.Vulkan.Sources;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Turns a kernel spec into GLSL for one device: the shared emitter choice (<see cref="KernelEmitter"/>)
/// with group, tile and loop budget sized from the device's limits and the kernel plan, rendered in
/// the GLSL dialect. Pure, so kernels generate in parallel.
/// </summary>
internal static class ShaderGeneration
{
    public static KernelSource Generate(KernelSpec spec, VkDeviceDesc desc, KernelPlan plan, long loopBudget)
    {
        int group = Group(desc, plan);
        var emitPlan = new EmitPlan("vulkan", group, MaxGroup(desc), plan.ReduceSerialLimit, loopBudget, plan.BlockedMatMul, Tile(desc), Parallelism(desc));
        return KernelSource.From(KernelEmitter.Emit(spec, CDialect.Glsl, emitPlan), spec.DisplayName, group);
    }

    /// <summary>The plan's group size within the device's limits, a power of two (for the reduction trees).</summary>
    private static int Group(VkDeviceDesc desc, KernelPlan plan) =>
        Math.Min(plan.Group, MaxGroup(desc)) is var g ? 1 << (31 - int.LeadingZeroCount(Math.Max(1, g))) : 1;

    /// <summary>The largest power-of-two group the device runs along the first axis.</summary>
    private static int MaxGroup(VkDeviceDesc desc)
    {
        long group = Math.Min(Math.Min(desc.MaxGroupInvocations, desc.MaxGroupSize[0]), 1 << 30);
        return 1 << (31 - int.LeadingZeroCount((int)Math.Max(1, group)));
    }

    /// <summary>The largest square tile whose T² invocations fit in a group (16 on anything modern).</summary>
    private static int Tile(VkDeviceDesc desc)
    {
        int tile = 16;
        while (tile > 1 && ((long)tile * tile > desc.MaxGroupInvocations || tile > desc.MaxGroupSize[1] || tile > desc.MaxGroupSize[0])) tile /= 2;
        return tile;
    }

    /// <summary>Invocations the device runs at once, roughly: what the scatter plan weighs its two shapes by.</summary>
    private static long Parallelism(VkDeviceDesc desc) => desc.Info.Kind == "cpu" ? Math.Max(1, desc.Info.ComputeUnits) * 8L : 4096;
}
