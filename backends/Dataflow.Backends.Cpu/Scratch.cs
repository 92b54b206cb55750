using System.Runtime.InteropServices;

namespace Dataflow.Backends.Cpu;

/// <summary>
/// Working memory for kernels, 64-byte aligned so packed matmul panels never straddle cache lines.
/// Per-thread blocks are kept for the life of the thread (the job system's workers are fixed), so
/// launches do not allocate; shared blocks (packed B for all threads) are pooled.
/// </summary>
internal static unsafe class Scratch
{
    public const int Slots = 4;
    public const int PackA = 0;
    public const int Registers = 1;
    public const int PackB = 2;
    public const int Scores = 3;

    [ThreadStatic] private static IntPtr[]? _blocks;
    [ThreadStatic] private static long[]? _sizes;

    /// <summary>This thread's block for <paramref name="slot"/>, at least <paramref name="floats"/> long; contents undefined.</summary>
    public static float* ThreadLocal(int slot, long floats)
    {
        _blocks ??= new IntPtr[Slots];
        _sizes ??= new long[Slots];
        if (_sizes[slot] < floats)
        {
            if (_blocks[slot] != IntPtr.Zero) NativeMemory.AlignedFree((void*)_blocks[slot]);
            long size = Math.Max(floats, _sizes[slot] * 2);
            _blocks[slot] = (IntPtr)NativeMemory.AlignedAlloc((nuint)(size * sizeof(float)), 64);
            _sizes[slot] = size;
        }
        return (float*)_blocks[slot];
    }

    private static readonly List<SharedBlock> Pool = [];

    public static SharedBlock RentShared(long floats)
    {
        lock (Pool)
        {
            for (int i = 0; i < Pool.Count; i++)
                if (Pool[i].Floats >= floats)
                {
                    var block = Pool[i];
                    Pool.RemoveAt(i);
                    return block;
                }
        }
        return new SharedBlock(floats);
    }

    internal static void Return(SharedBlock block)
    {
        lock (Pool)
        {
            // Keep a few blocks; drop the smallest when full so big packs stay reusable.
            Pool.Add(block);
            if (Pool.Count > 4)
            {
                int smallest = 0;
                for (int i = 1; i < Pool.Count; i++) if (Pool[i].Floats < Pool[smallest].Floats) smallest = i;
                Pool[smallest].Free();
                Pool.RemoveAt(smallest);
            }
        }
    }

    internal sealed class SharedBlock : IDisposable
    {
        public SharedBlock(long floats)
        {
            Floats = Math.Max(floats, 1024);
            Pointer = (float*)NativeMemory.AlignedAlloc((nuint)(Floats * sizeof(float)), 64);
        }

        public long Floats { get; }
        public float* Pointer { get; private set; }

        public void Dispose() => Return(this);

        internal void Free()
        {
            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
