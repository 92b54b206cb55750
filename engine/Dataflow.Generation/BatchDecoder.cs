using Dataflow.Engine.Frame;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Training;

namespace Dataflow.Generation;

/// <summary>
/// Many sequences decoded together, each in its own slot of key/value caches that live in device
/// buffers (state tensors of the session, updated in place by the graphs). Graphs compiled once each:
/// the batched decode step (every slot feeds one token at its own position; an idle slot is fed
/// position L and writes nothing) and the chunked prefill (C tokens into one slot, plus a C/8 chunk
/// for what remains of a prompt when that is no more, so a short prompt is not padded to C). No graph is
/// compiled per prompt length and no cache crosses to the host. A step with few sequences running runs
/// a narrower graph over the same caches (rows name their slots: W rows for the smallest power of two
/// W ≥ the running count, compiled on first use), so one decoder serves every batch size up to its slots
/// and a step costs what runs, not what could.
/// </summary>
/// <remarks>
/// A prompt of n tokens is prefilled in chunks of C starting at 0, C, 2C, …; the last chunk is moved
/// back to end exactly at n (it rewrites a few rows with the same values), and a prompt shorter than C
/// is padded at positions n … C−1, rows that are rewritten before any query can see them. So every
/// position fed is inside the cache.
/// </remarks>
public sealed class BatchDecoder
{
    private readonly Session _session;
    private readonly CompiledProgram _decode;
    private readonly PrefillGraphOf _prefill, _tail;
    private readonly LanguageModelInputs _decodeInputs, _prefillInputs;
    private readonly string[] _fetchDecode, _fetchPrefill;
    private readonly int[] _decodeTokens, _decodePositions;
    private readonly Dictionary<string, Array> _decodeFeed;
    private readonly Dictionary<string, float[]> _decodeInto = new(StringComparer.Ordinal);
    private readonly Func<int, PrefillGraphOf> _compileRows;
    private readonly Func<int, int, PrefillGraphOf> _compilePrefill;
    /// <summary>The narrow decode steps by width (1, 2, 4, … below <see cref="Slots"/>), compiled on first use, each with the array it fetches into.</summary>
    private readonly Dictionary<int, (PrefillGraphOf Graph, Dictionary<string, float[]> Into)> _narrow = [];
    /// <summary>[slots, vocab]: where a narrow step's rows land, so <see cref="Decode"/> has one layout whatever ran.</summary>
    private float[]? _slotLogits;
    /// <summary>Prefill graphs of several rows by (rows, chunk size), compiled on first use, each with the array it fetches into.</summary>
    private readonly Dictionary<(int Rows, int Size), (PrefillGraphOf Graph, Dictionary<string, float[]> Into)> _prefillRows = [];
    /// <summary>The chunks queued for <see cref="RunPrefills"/>: full chunks, and the short chunks of a prompt's remainder.</summary>
    private readonly PrefillQueue _queuedFull, _queuedTail;

    /// <summary>A compiled prefill graph of one chunk size and the arrays it is fed from.</summary>
    private sealed record PrefillGraphOf(CompiledProgram Graph, int Size, int[] Tokens, int[] Position, int[] Slot, int[] Last, Dictionary<string, Array> Feed);

    /// <summary>Chunks of one size queued for one graph call: each row's tokens, start, slot and last row; then the call's logits, a row per chunk.</summary>
    private sealed class PrefillQueue(int slots, int size)
    {
        public readonly int Size = size;
        public readonly int[] Tokens = new int[slots * size], Position = new int[slots], Slot = new int[slots], Last = new int[slots];
        public int Count, Width = 1;
        public float[] Logits = [];
    }

    /// <param name="load">Lowers the model in decode mode: (cache length, slots per row or null for "rows are slots").</param>
    public BatchDecoder(Session session, Func<int, int?, LoadedModel> load, int slots, int cacheLength, int chunk)
    {
        if (slots <= 0) throw new ArgumentOutOfRangeException(nameof(slots), "at least one slot");
        if (chunk <= 0 || chunk > cacheLength) throw new ArgumentOutOfRangeException(nameof(chunk), $"a prefill chunk of {chunk} does not fit a cache of {cacheLength}");
        (_session, Slots, CacheLength, Chunk) = (session, slots, cacheLength, chunk);

        var decodeModel = load(cacheLength, null);
        var prefillModel = load(cacheLength, slots);
        _decodeInputs = LanguageModelInputs.Of(decodeModel.Graph);
        _prefillInputs = LanguageModelInputs.Of(prefillModel.Graph);
        _decode = session.Compile(StepGraph.ForwardOnly(decodeModel.Graph, includeLoss: false), _decodeInputs.Bindings(slots, 1));
        var prefillGraph = StepGraph.ForwardOnly(prefillModel.Graph, includeLoss: false);
        // The slotted graph: `rows` rows of `size` tokens, each row naming its slot, position and last row.
        PrefillGraphOf Compile(int rows, int size)
        {
            var graph = session.Compile(prefillGraph, _prefillInputs.Bindings(rows, size));
            var (tokens, position, slot, last) = (new int[rows * size], new int[rows], new int[rows], new int[rows]);
            return new PrefillGraphOf(graph, size, tokens, position, slot, last, new(StringComparer.Ordinal)
            {
                [_prefillInputs.Tokens] = tokens, [DecodeInputs.Position] = position, [DecodeInputs.Slot] = slot, [DecodeInputs.Last] = last,
            });
        }
        _compileRows = rows => Compile(rows, 1);
        _compilePrefill = Compile;
        _prefill = Compile(1, chunk);
        // A short prompt (or a prompt's short remainder) is padded to a small chunk, not the full one.
        _tail = chunk > 8 ? Compile(1, Math.Max(1, chunk / 8)) : _prefill;
        _fetchDecode = [_decodeInputs.Logits];
        _fetchPrefill = [_prefillInputs.Logits];

        (_queuedFull, _queuedTail) = (new PrefillQueue(slots, _prefill.Size), new PrefillQueue(slots, _tail.Size));
        _prefillRows[(1, _prefill.Size)] = (_prefill, new(StringComparer.Ordinal));
        _prefillRows.TryAdd((1, _tail.Size), (_tail, new(StringComparer.Ordinal)));
        (_decodeTokens, _decodePositions) = (new int[slots], new int[slots]);
        _decodeFeed = new(StringComparer.Ordinal) { [_decodeInputs.Tokens] = _decodeTokens, [DecodeInputs.Position] = _decodePositions };
    }

    /// <summary>The compiled step that <paramref name="running"/> sequences run (the full decode step or a narrow one, compiled now if it was not), for profiling.</summary>
    public CompiledProgram CompiledStepFor(int running)
    {
        int width = NarrowWidth(running);
        return width < Slots ? NarrowStep(width).Graph.Graph : _decode;
    }

    /// <summary>The compiled prefill chunk (for profiling).</summary>
    public CompiledProgram PrefillGraph => _prefill.Graph;

    public int Slots { get; }

    /// <summary>The rows the last decode step ran (<see cref="NarrowWidth"/> of the sequences running then).</summary>
    public int LastWidth { get; private set; }
    public int CacheLength { get; }
    public int Chunk { get; }

    /// <summary>
    /// Writes <paramref name="tokens"/> (positions 0 … n−1) into <paramref name="slot"/>; returns the
    /// logits of the last one (the vocabulary's width).
    /// </summary>
    public float[] Prefill(int slot, ReadOnlySpan<int> tokens)
    {
        float[] logits = [];
        int done = 0;
        do logits = PrefillChunk(slot, tokens, ref done); while (done < tokens.Length);
        return logits;
    }

    /// <summary>
    /// The next chunk of a prefill that has written <paramref name="done"/> of <paramref name="tokens"/>
    /// into <paramref name="slot"/> (one chunk per frame keeps a long prompt from stalling the others).
    /// Advances <paramref name="done"/>; returns the logits of the chunk's last token (the only row the prefill graph projects).
    /// </summary>
    public float[] PrefillChunk(int slot, ReadOnlySpan<int> tokens, ref int done)
    {
        var p = NextChunk(slot, tokens, done) == _tail.Size ? _tail : _prefill;
        done = CopyChunk(tokens, done, p.Size, p.Tokens, out p.Position[0], out p.Last[0]);
        p.Slot[0] = slot;
        return Run(p.Graph, p.Feed, _fetchPrefill, null).Results[_prefillInputs.Logits];
    }

    /// <summary>
    /// Queues the next chunk of a prefill, as <see cref="PrefillChunk"/> would run it, for <see cref="RunPrefills"/>,
    /// which runs every chunk queued since the last call in one graph call per chunk size (rows of the slotted prefill
    /// graph, each naming its slot): admitting many prompts at once costs a few tall products, not a call per prompt.
    /// Advances <paramref name="done"/>; returns a ticket for <see cref="PrefillLogits"/>. At most one chunk per slot per
    /// run (a slot's chunks must run in order).
    /// </summary>
    public int QueuePrefill(int slot, ReadOnlySpan<int> tokens, ref int done)
    {
        bool tail = NextChunk(slot, tokens, done) == _tail.Size;
        var queue = tail ? _queuedTail : _queuedFull;
        if (queue.Count == Slots) throw new InvalidOperationException($"more than {Slots} prefill chunks queued (one per slot per run)");
        int row = queue.Count++;
        done = CopyChunk(tokens, done, queue.Size, queue.Tokens.AsSpan(row * queue.Size, queue.Size), out queue.Position[row], out queue.Last[row]);
        queue.Slot[row] = slot;
        return (tail ? Slots : 0) + row;
    }

    /// <summary>Runs the chunks queued by <see cref="QueuePrefill"/>: per chunk size, one call of the smallest slotted prefill graph that holds them (rows past them idle).</summary>
    public void RunPrefills()
    {
        RunQueue(_queuedFull);
        RunQueue(_queuedTail);

        void RunQueue(PrefillQueue queue)
        {
            if (queue.Count == 0) return;
            int width = NarrowWidth(queue.Count), size = queue.Size;
            var (g, into) = PrefillRows(width, size);
            queue.Tokens.AsSpan(0, queue.Count * size).CopyTo(g.Tokens);
            g.Tokens.AsSpan(queue.Count * size).Clear();
            for (int r = 0; r < width; r++)
                (g.Position[r], g.Slot[r], g.Last[r]) = r < queue.Count ? (queue.Position[r], queue.Slot[r], queue.Last[r]) : (CacheLength, 0, 0);
            queue.Logits = Run(g.Graph, g.Feed, _fetchPrefill, into).Results[_prefillInputs.Logits];
            into.TryAdd(_prefillInputs.Logits, queue.Logits);
            (queue.Width, queue.Count) = (width, 0);
        }
    }

    /// <summary>The logits of the last token of a chunk that <see cref="RunPrefills"/> ran (valid until the next run).</summary>
    public ReadOnlySpan<float> PrefillLogits(int ticket)
    {
        var queue = ticket >= Slots ? _queuedTail : _queuedFull;
        int vocab = queue.Logits.Length / queue.Width;
        return queue.Logits.AsSpan(ticket % Slots * vocab, vocab);
    }

    /// <summary>The size of the chunk that continues a prefill of <paramref name="tokens"/> with <paramref name="done"/> in the cache (checking the slot and the length).</summary>
    private int NextChunk(int slot, ReadOnlySpan<int> tokens, int done)
    {
        if ((uint)slot >= (uint)Slots) throw new ArgumentOutOfRangeException(nameof(slot), $"slot {slot} of {Slots}");
        if (tokens.Length == 0 || tokens.Length > CacheLength)
            throw new ArgumentException($"a prompt of {tokens.Length} tokens does not fit a cache of {CacheLength} positions", nameof(tokens));
        return tokens.Length - done <= _tail.Size ? _tail.Size : _prefill.Size;
    }

    /// <summary>The chunk of <paramref name="size"/> after <paramref name="done"/> into <paramref name="into"/> (padded with zeros): its start and last row; returns the new done.</summary>
    private static int CopyChunk(ReadOnlySpan<int> tokens, int done, int size, Span<int> into, out int start, out int last)
    {
        start = Math.Max(0, Math.Min(done, tokens.Length - size));   // the last chunk ends at the last token
        int count = Math.Min(size, tokens.Length - start);
        tokens.Slice(start, count).CopyTo(into);
        into[count..].Clear();
        last = count - 1;
        return start + count;
    }

    private (PrefillGraphOf Graph, Dictionary<string, float[]> Into) PrefillRows(int rows, int size)
    {
        if (!_prefillRows.TryGetValue((rows, size), out var graph))
            _prefillRows[(rows, size)] = graph = (_compilePrefill(rows, size), new(StringComparer.Ordinal));
        return graph;
    }

    /// <summary>
    /// One batched step: slot s feeds <paramref name="tokens"/>[s] at <paramref name="positions"/>[s]
    /// (a position of <see cref="CacheLength"/> or more leaves the slot idle). Returns logits [slots, vocab]
    /// in an array the decoder owns and overwrites at the next step (copy what must outlive it); the rows
    /// of idle slots hold nothing meaningful.
    /// </summary>
    public float[] Decode(ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions)
    {
        if (tokens.Length != Slots || positions.Length != Slots)
            throw new ArgumentException($"a decode step takes one token and one position per slot ({Slots}), got {tokens.Length} and {positions.Length}");
        int running = 0;
        for (int s = 0; s < Slots; s++) if (positions[s] < CacheLength) running++;
        int width = LastWidth = NarrowWidth(running);
        if (width < Slots) return DecodeNarrow(width, tokens, positions);
        tokens.CopyTo(_decodeTokens);
        for (int s = 0; s < Slots; s++) _decodePositions[s] = Math.Clamp(positions[s], 0, CacheLength);
        var logits = Run(_decode, _decodeFeed, _fetchDecode, _decodeInto).Results[_decodeInputs.Logits];
        // The first step's logits array (slots × vocabulary) receives every later step's, so a step allocates nothing.
        _decodeInto.TryAdd(_decodeInputs.Logits, logits);
        return logits;
    }

    /// <summary>One pass of <paramref name="graph"/> in its reused frame (nothing allocated).</summary>
    private FrameContext Run(CompiledProgram graph, Dictionary<string, Array> feed, string[] fetch, Dictionary<string, float[]>? into) =>
        _session.RunReusingFrame(graph, feed, fetch, into);

    /// <summary>The rows a step of <paramref name="running"/> sequences runs: the smallest power of two that holds them (at least one), or all the slots.</summary>
    public int NarrowWidth(int running)
    {
        int width = 1;
        while (width < running) width *= 2;
        return Math.Min(width, Slots);
    }

    private (PrefillGraphOf Graph, Dictionary<string, float[]> Into) NarrowStep(int width)
    {
        if (!_narrow.TryGetValue(width, out var step)) _narrow[width] = step = (_compileRows(width), new(StringComparer.Ordinal));
        return step;
    }

    /// <summary>The running slots as the rows of a <paramref name="width"/>-row slotted step (the rest idle: past the cache, so they write and read nothing); their logits back in slot order.</summary>
    private float[] DecodeNarrow(int width, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions)
    {
        var step = NarrowStep(width);
        var g = step.Graph;
        int row = 0;
        for (int s = 0; s < Slots; s++)
        {
            if (positions[s] >= CacheLength) continue;
            (g.Tokens[row], g.Position[row], g.Slot[row], g.Last[row]) = (tokens[s], Math.Max(0, positions[s]), s, 0);
            row++;
        }
        for (int r = row; r < width; r++) (g.Tokens[r], g.Position[r], g.Slot[r], g.Last[r]) = (0, CacheLength, 0, 0);
        var logits = Run(g.Graph, g.Feed, _fetchPrefill, step.Into).Results[_prefillInputs.Logits];
        step.Into.TryAdd(_prefillInputs.Logits, logits);
        int vocab = logits.Length / width;
        _slotLogits ??= new float[Slots * vocab];
        row = 0;
        for (int s = 0; s < Slots; s++)
            if (positions[s] < CacheLength) logits.AsSpan(row++ * vocab, vocab).CopyTo(_slotLogits.AsSpan(s * vocab, vocab));
        return _slotLogits;
    }
}
