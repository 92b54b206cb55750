using Dataflow.Training;

namespace Dataflow.Chat.Sft;

/// <summary>SFT's batch source: rows of packed conversations (<see cref="ConversationPacker"/>), drawn endlessly; the state is the next conversation's index.</summary>
public sealed class SftBatches : IBatchSource
{
    private readonly ConversationPacker _packer;
    private readonly int _batch, _context;
    private readonly int[] _tokens, _targets;
    private readonly IReadOnlyDictionary<string, long> _bindings;
    private readonly LanguageModelInputs _inputs;

    public SftBatches(ConversationPacker packer, LanguageModelInputs inputs, int batch)
    {
        (_packer, _inputs, _batch, _context) = (packer, inputs, batch, packer.Context);
        (_tokens, _targets) = (new int[batch * _context], new int[batch * _context]);
        _bindings = inputs.Bindings(batch, _context);
    }

    public TrainingBatch Next()
    {
        long trained = 0;
        for (int row = 0; row < _batch; row++)
            trained += _packer.Fill(_tokens.AsSpan(row * _context, _context), _targets.AsSpan(row * _context, _context));
        return new TrainingBatch(_bindings, new Dictionary<string, Array> { [_inputs.Tokens] = _tokens, [_inputs.Targets] = _targets }, _batch, trained);
    }

    public byte[] GetState() => BitConverter.GetBytes(_packer.Next);

    public void SetState(ReadOnlySpan<byte> state) => _packer.Next = state.Length == 8 ? BitConverter.ToInt64(state) : 0;
}
