using Dataflow.Engine.Backends;
using Silk.NET.Vulkan;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// The loaded Vulkan library (through the loader, libvulkan.so.1) and error handling for its calls.
/// Loading is done once per process; a missing loader becomes <see cref="BackendUnavailableException"/>
/// so the runner can say what to install and exit 2 instead of crashing with a loader error.
/// </summary>
internal static class VkApi
{
    private static readonly Lazy<(Vk? Api, Exception? Error)> Loaded = new(Load);

    public static Vk Get()
    {
        var (api, error) = Loaded.Value;
        return api ?? throw new BackendUnavailableException(
            $"vulkan: cannot load the Vulkan loader (libvulkan.so.1 / vulkan-1.dll): {error?.Message.TrimEnd('.', '!', ' ')}. " +
            "Install the loader and a driver (for example libvulkan1 and mesa-vulkan-drivers, whose lavapipe runs on the CPU).", error);
    }

    private static (Vk?, Exception?) Load()
    {
        try
        {
            var vk = Vk.GetApi();
            // GetApi binds lazily; one real call (a Vulkan 1.0 one, which every loader has) proves the library is there.
            uint count = 0;
            unsafe { vk.EnumerateInstanceExtensionProperties((byte*)null, &count, null); }
            return (vk, null);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or FileNotFoundException
                                      or TypeInitializationException or PlatformNotSupportedException or InvalidOperationException)
        {
            return (null, e);
        }
    }

    /// <summary>Throws with the call and the result's name when <paramref name="result"/> is not VK_SUCCESS.</summary>
    public static void Check(Result result, string what)
    {
        if (result != Result.Success) throw new VulkanException(what, result);
    }

    /// <summary>A Vulkan version number as major.minor.patch.</summary>
    public static string Version(uint v) => $"{v >> 22}.{(v >> 12) & 0x3FF}.{v & 0xFFF}";
}

/// <summary>A Vulkan call failed at run time (not a compile error: those are <see cref="KernelCompileException"/>).</summary>
public sealed class VulkanException(string what, Result result) : Exception($"vulkan: {what} failed: {result} ({(int)result})")
{
    public Result Result { get; } = result;
}
