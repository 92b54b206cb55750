using Dataflow.Backends.Cpu.Kernels;

namespace Dataflow.Backends.Cpu;

/// <summary>
/// A weight as a batched decode step's products read it (<see cref="GemvPanels"/>): B [k, n] of C = A · B cut
/// into panels of 16 columns, each panel k rows of 16 floats, panel after panel. A panel is one sequential
/// run of memory with one 64-byte line per step over k, and the products of a task walk whole panels in order,
/// so the weights stream as one long run per thread (the hardware prefetchers' best case) and each line feeds
/// sixteen rows' multiply-adds without a shuffle. The last panel's columns past n are zeros. A bf16 weight's
/// panels hold its words (32 bytes a line, widened in a register once per line: one widening per sixteen
/// multiply-adds), made from its bf16 decode copy; an f32 weight's hold floats.
/// </summary>
/// <remarks>
/// Made by the first product of 8 to 16 rows that reads the weight (<see cref="CpuBuffer.PanelsFor"/>: a batched
/// decode step, or a prompt's short 8-token prefill chunk, which then runs on them too), not at load: a weight
/// no such product reads never pays the memory (as much again as the weight; the 15M shape's unembedding, 37 MB,
/// only once a step decodes 8 or more sequences).
/// </remarks>
internal sealed unsafe class DecodePanels : IDisposable
{
    public const int Width = 16;

    private HostBlock _block;

    private DecodePanels(in Gemm.Operand served, int k, int n, bool bf16)
    {
        (Operand, K, N, IsBf16) = (served, k, n, bf16);
        _block = HostBlock.AllocateZeroed((nuint)((long)Count * Width * k * (bf16 ? sizeof(ushort) : sizeof(float))));
    }

    /// <summary>How the product reads the weight's storage (strides over it), and its k and n: the panels serve that product only.</summary>
    public Gemm.Operand Operand { get; }
    public int K { get; }
    public int N { get; }

    /// <summary>bf16 words (else f32).</summary>
    public bool IsBf16 { get; }

    public int Count => (N + Width - 1) / Width;

    /// <summary>Element (p, j) of B is word (j / 16)·16k + p·16 + j % 16 (a float, or a bf16 word where <see cref="IsBf16"/>).</summary>
    public void* Words => _block.Pointer != null ? _block.Pointer : throw new ObjectDisposedException(nameof(DecodePanels));

    public bool Serves(in Gemm.Operand b, int k, int n) => b.RowStride == Operand.RowStride && b.ColStride == Operand.ColStride && k == K && n == N;

    /// <summary>
    /// The panels of B[p, j] = values[p·RowStride + j·ColStride] (strides of <paramref name="b"/>) for p &lt; k,
    /// j &lt; n, serving the product that reads the weight's storage through <paramref name="served"/>.
    /// </summary>
    public static DecodePanels Create(float* values, in Gemm.Operand b, int k, int n, in Gemm.Operand served)
    {
        var panels = new DecodePanels(served, k, n, bf16: false);
        Fill(values, (float*)panels.Words, b, k, n);
        return panels;
    }

    /// <summary><see cref="Create(float*, in Gemm.Operand, int, int, in Gemm.Operand)"/> over bf16 words, kept as words.</summary>
    public static DecodePanels Create(ushort* words, in Gemm.Operand b, int k, int n, in Gemm.Operand served)
    {
        var panels = new DecodePanels(served, k, n, bf16: true);
        Fill(words, (ushort*)panels.Words, b, k, n);
        return panels;
    }

    private static void Fill<T>(T* from, T* into, in Gemm.Operand b, int k, int n) where T : unmanaged
    {
        for (int panel = 0; panel < (n + Width - 1) / Width; panel++)
        {
            int j0 = panel * Width, columns = Math.Min(Width, n - j0);
            T* run = into + (long)panel * Width * k;
            for (int p = 0; p < k; p++)
                for (int q = 0; q < columns; q++)
                    run[p * Width + q] = from[p * b.RowStride + (j0 + q) * b.ColStride];
        }
    }

    public void Dispose()
    {
        _block.Free();
        _block = default;
    }
}
