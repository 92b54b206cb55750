namespace Dataflow.Engine.Tokenizers;

/// <summary>The special tokens every trained or loaded BPE tokenizer registers (chat models need the last two).</summary>
public static class SpecialTokenNames
{
    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";

    public static IReadOnlyList<string> Defaults { get; } = [EndOfText, ImStart, ImEnd];

    // nanochat's conversation markers: a row starts with Bos; each turn is framed by its role's
    // pair; a calculator call is Python…, the runtime's answer Output…. Pad fills the end of a
    // packed row; it is last, so a model with `ignore = vocab - 1` never learns to predict it.
    public const string Bos = "<|bos|>";
    public const string SystemStart = "<|system_start|>";
    public const string SystemEnd = "<|system_end|>";
    public const string UserStart = "<|user_start|>";
    public const string UserEnd = "<|user_end|>";
    public const string AssistantStart = "<|assistant_start|>";
    public const string AssistantEnd = "<|assistant_end|>";
    public const string PythonStart = "<|python_start|>";
    public const string PythonEnd = "<|python_end|>";
    public const string OutputStart = "<|output_start|>";
    public const string OutputEnd = "<|output_end|>";
    public const string Pad = "<|pad|>";

    /// <summary>The chat markers in id order (added after a base vocabulary by <see cref="SpecialTokenTokenizer"/>).</summary>
    public static IReadOnlyList<string> Chat { get; } =
        [Bos, SystemStart, SystemEnd, UserStart, UserEnd, AssistantStart, AssistantEnd, PythonStart, PythonEnd, OutputStart, OutputEnd, Pad];
}
