namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Measures how many loop iterations one invocation of a shader may run on a device: some CPU
/// drivers (Mesa's llvmpipe before 23.x) end every loop of an invocation once 65535 iterations
/// have run in all, without an error. The probe counts a million iterations and reads back how
/// many ran; the answer becomes the generators' loop budget (<see cref="Engine.Backends.Sources.LoopBudget"/>).
/// </summary>
internal static class LoopLimitProbe
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
}
