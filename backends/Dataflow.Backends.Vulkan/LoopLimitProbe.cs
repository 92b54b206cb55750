using Dataflow.Backends.Vulkan.Sources;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Measures how many loop iterations one invocation of a shader may run on a device: some CPU
/// drivers (Mesa's llvmpipe before 23.x) end every loop of an invocation once 65535 iterations
/// have run in all, without an error. The probe counts a million iterations and reads back how
/// many ran; the answer becomes the generators' loop budget (<see cref="Engine.Backends.Sources.LoopBudget"/>).
/// </summary>
internal static unsafe class LoopLimitProbe
{
    public const uint Trials = 1_000_000;

    public const string Source = """
        #version 450
        // dataflow vulkan: loop limit probe
        layout(local_size_x = 1, local_size_y = 1, local_size_z = 1) in;
        layout(std430, binding = 0) buffer B0 { uint y[]; };
        void main()
        {
            uint n = 0u;
            for (uint i = 0u; i < y[0]; i++) n++;
            y[1] = n;
        }
        """;

    /// <summary>The usable budget for a measured count: unlimited when every trial ran, else three quarters of what ran.</summary>
    public static long Budget(uint ran) => ran >= Trials ? long.MaxValue : Math.Max(256, ran / 4 * 3);

    /// <summary>Runs the probe on an opened device: how many of its loop iterations one invocation completed.</summary>
    public static uint Measure(VulkanKernelFactory kernels, VulkanMemory memory, VulkanRecorder recorder)
    {
        var kernel = kernels.Build(new RawKernelSpec("loop_limit_probe"), new KernelSource([Source], [2], [1], [1], GridStride: false));
        try
        {
            var buffer = memory.Create(2);
            try
            {
                ((uint*)buffer.Mapped)[0] = Trials;
                recorder.Record(kernel, kernel.Pipelines[0], [buffer], []);
                recorder.Flush();
                return ((uint*)buffer.Mapped)[1];
            }
            finally
            {
                memory.Destroy(buffer);
            }
        }
        finally
        {
            kernels.Destroy(kernel);
        }
    }
}

/// <summary>A name for a kernel built from hand-written GLSL (the loop-limit probe) rather than generated from a spec.</summary>
internal sealed record RawKernelSpec(string Name) : KernelSpec
{
    public override string Key => "raw:" + Name;
    public override string DisplayName => Name;
}
