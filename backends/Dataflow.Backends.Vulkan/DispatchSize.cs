using Dataflow.Backends.Vulkan.Sources;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// How many work-groups a kernel's dispatch has along each axis, worked out once at compile time:
/// enough to cover the work, grid-stride shaders capped per core by the kernel plan but never so few
/// that one invocation runs more loop iterations than the driver allows; errors where the device's
/// limits cannot hold the kernel.
/// </summary>
internal static class DispatchSize
{
    public static uint[] Of(string name, KernelSource source, VkDeviceDesc desc, KernelPlan plan, long loopBudget)
    {
        long invocations = source.Local.Aggregate(1L, (a, b) => a * b);
        if (invocations > desc.MaxGroupInvocations || source.Local.Where((l, d) => l > desc.MaxGroupSize[d]).Any())
            throw new NotSupportedException($"vulkan: {name}: a work-group of {string.Join("x", source.Local)} exceeds the device's limits");
        var groups = new uint[3];
        for (int d = 0; d < 3; d++)
        {
            long global = d < source.Global.Length ? source.Global[d] : 1;
            long local = d < source.Local.Length ? source.Local[d] : 1;
            long count = (global + local - 1) / local;
            if (source.GridStride && d == 0)
            {
                long cap = plan.GroupsPerCore > 0 ? (long)plan.GroupsPerCore * Math.Max(1, desc.Info.ComputeUnits) : long.MaxValue;
                long wanted = Math.Min(count, cap);
                if (loopBudget != long.MaxValue && count > 0)
                {
                    // Enough wanted that no invocation runs more loop iterations than the driver allows.
                    if (source.ItemIterations + 1 > loopBudget)
                        throw new InvalidOperationException($"vulkan: {name}: one item takes {source.ItemIterations} loop iterations, over the device's budget of {loopBudget}");
                    long itemsPerInvocation = loopBudget / (source.ItemIterations + 1);
                    wanted = Math.Max(wanted, (global + local * itemsPerInvocation - 1) / (local * itemsPerInvocation));
                }
                if (wanted > desc.MaxGroupCount[0] && loopBudget != long.MaxValue)
                    throw new NotSupportedException($"vulkan: {name} needs {wanted} work-wanted to stay within the device's loop limit; it allows {desc.MaxGroupCount[0]}");
                count = Math.Min(wanted, desc.MaxGroupCount[0]);
            }
            else if (count > desc.MaxGroupCount[d])
                throw new NotSupportedException($"vulkan: {name} needs {count} work-groups along axis {d}; the device allows {desc.MaxGroupCount[d]}");
            groups[d] = (uint)count;
        }
        if (source.PushBytes > desc.MaxPushConstants)
            throw new NotSupportedException($"vulkan: {name} needs {source.PushBytes} bytes of push constants; the device allows {desc.MaxPushConstants}");
        return groups;
    }
}
