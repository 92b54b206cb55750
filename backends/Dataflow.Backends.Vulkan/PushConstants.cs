using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.Vulkan;

/// <summary>The push-constant words of one launch, in the order the generated shaders declare them.</summary>
internal static class PushConstants
{
    /// <summary>Writes the words into <paramref name="words"/> and returns how many there are.</summary>
    public static int Of(VulkanKernel kernel, in LaunchParams launch, Span<uint> words)
    {
        switch (kernel.Plan.Push)
        {
            case LaunchScalars.Seed:
                words[0] = (uint)launch.Seed;
                words[1] = (uint)(launch.Seed >> 32);
                return 2;
            case LaunchScalars.Pass:
                return 0; // set per dispatch
            case LaunchScalars.Sgd or LaunchScalars.Adam:
                var args = OptimizerArguments.Of((OptimizerStepSpec)kernel.Spec, launch.Scalars);
                for (int i = 0; i < args.Length; i++) words[i] = BitConverter.SingleToUInt32Bits(args[i]);
                return args.Length;
            default:
                return 0;
        }
    }
}
