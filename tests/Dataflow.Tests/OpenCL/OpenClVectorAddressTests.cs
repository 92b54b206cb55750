using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Tests.OpenCL;

/// <summary>
/// OpenCL vector loads and stores add each term of a plain sum to the pointer (PoCL hoists and widens
/// them once; one parenthesised 32-bit sum ran the register-blocked x · Bᵀ 1.3–1.6× slower), and keep
/// the parentheses where dropping them would change the address.
/// </summary>
public sealed class OpenClVectorAddressTests
{
    [Theory]
    [InlineData("bBase + c0 * 512 + kk", "vload8(0, b + bBase + c0 * 512 + kk)")]
    [InlineData("(r0 + 1) * 64 + kk", "vload8(0, b + (r0 + 1) * 64 + kk)")]
    [InlineData("kk - 8", "vload8(0, b + (kk - 8))")]
    [InlineData("p < 3 ? i : j", "vload8(0, b + (p < 3 ? i : j))")]
    public void Loads_add_the_terms_of_a_plain_sum_to_the_pointer(string offset, string expected) =>
        Assert.Equal(expected, CDialect.OpenCl.VectorLoad(8, "b", offset));

    [Fact]
    public void Stores_address_as_loads_do() =>
        Assert.Equal("vstore8(acc, 0, c + o0 + 16);", CDialect.OpenCl.VectorStore(8, "acc", "c", "o0 + 16"));
}
