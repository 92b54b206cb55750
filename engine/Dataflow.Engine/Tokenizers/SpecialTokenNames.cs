namespace Dataflow.Engine.Tokenizers;

/// <summary>The special tokens every trained or loaded BPE tokenizer registers (chat models need the last two).</summary>
public static class SpecialTokenNames
{
    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";

    public static IReadOnlyList<string> Defaults { get; } = [EndOfText, ImStart, ImEnd];
}
