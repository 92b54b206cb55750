using Dataflow.Backends.Cpu;

namespace Dataflow.Tests.Cpu;

/// <summary>The native blocks behind CPU tensors and decode copies: zeroed, aligned, writable end to end, freed.</summary>
public unsafe class HostBlockTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4099)]
    [InlineData(3 << 20)]          // past 2 MiB: its own mapping on Linux
    [InlineData((2 << 20) + 12)]
    public void A_block_is_zeroed_aligned_and_writable_to_its_last_byte(int bytes)
    {
        var block = HostBlock.AllocateZeroed((nuint)bytes);
        try
        {
            var span = new Span<byte>(block.Pointer, bytes);
            Assert.Equal(-1, span.IndexOfAnyExcept((byte)0));
            long alignment = bytes >= 2 << 20 && OperatingSystem.IsLinux() ? 2 << 20 : 64;
            Assert.Equal(0, (long)block.Pointer % alignment);
            span.Fill(0xAB);
            Assert.Equal(0xAB, span[^1]);
        }
        finally
        {
            block.Free();
        }
    }

    [Fact]
    public void A_large_tensor_buffer_starts_at_a_huge_page_boundary_and_reads_zeros()
    {
        using var backend = new CpuBackend();
        using var buffer = (CpuBuffer)backend.Allocate(1 << 20);    // 4 MiB of floats
        var values = new float[1 << 20];
        values.AsSpan().Fill(1);
        backend.Download(buffer, values);
        Assert.Equal(-1, values.AsSpan().IndexOfAnyExcept(0f));
        if (OperatingSystem.IsLinux()) Assert.Equal(0, (long)buffer.Pointer % (2 << 20));
    }
}
