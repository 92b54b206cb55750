using Dataflow.Backends.Cpu;

namespace Dataflow.Tests.Cpu;

/// <summary>The native blocks behind decode copies: zeroed, aligned, writable end to end, freed.</summary>
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
    public void A_large_decode_copy_starts_at_a_huge_page_boundary_and_holds_the_weight()
    {
        var values = new float[1024 * 1024];    // 4 MiB
        for (int i = 0; i < values.Length; i++) values[i] = i % 1000 - 500;
        fixed (float* weight = values)
        {
            using var copy = DecodeCopy.Create(weight, 1024, 1024, bf16: false, transposed: true);
            if (OperatingSystem.IsLinux()) Assert.Equal(0, (long)copy.F32Words % (2 << 20));
            Assert.Equal(values[5 * 1024 + 7], copy.F32Words[7 * 1024 + 5]);
            Assert.Equal(values[^1], copy.F32Words[values.Length - 1]);
        }
    }
}
