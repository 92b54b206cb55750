using Dataflow.Backends.Vulkan;

namespace Dataflow.Tests.Vulkan;

/// <summary>The on-disk SPIR-V cache: content-addressed by compiler and source, and never trusted blindly.</summary>
public sealed class SpirvDiskCacheTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("dataflow-spirv-test-").FullName;

    [Fact]
    public void KeepsWordsPerCompilerAndSourceAndIgnoresWhatIsNotSpirv()
    {
        var cache = SpirvDiskCache.At(_folder, "compiler 1")!;
        uint[] words = [0x07230203, 0x00010000, 0, 1, 0, 42];
        Assert.Null(cache.TryRead("void main() {}"));
        cache.Write("void main() {}", words);
        Assert.Equal(words, cache.TryRead("void main() {}"));
        Assert.Null(cache.TryRead("void main() { }"));                                   // another source
        Assert.Null(SpirvDiskCache.At(_folder, "compiler 2")!.TryRead("void main() {}")); // another compiler

        foreach (var file in Directory.GetFiles(_folder)) File.WriteAllBytes(file, [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Null(cache.TryRead("void main() {}"));                                    // not SPIR-V: compiled again
    }

    [Fact]
    public void TheVariableNamesTheFolderOrTurnsTheCacheOff()
    {
        Assert.Equal("/some/where", SpirvDiskCache.FolderFor("/some/where"));
        Assert.Null(SpirvDiskCache.FolderFor("off"));
        Assert.EndsWith(Path.Combine("dataflow", "spirv"), SpirvDiskCache.FolderFor(null));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
