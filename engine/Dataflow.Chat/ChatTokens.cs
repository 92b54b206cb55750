using Dataflow.Engine;
using Dataflow.Engine.Tokenizers;
using Names = Dataflow.Engine.Tokenizers.SpecialTokenNames;

namespace Dataflow.Chat;

/// <summary>The ids of the chat markers in one tokenizer (<see cref="SpecialTokenNames.Chat"/>), and that tokenizer.</summary>
public sealed class ChatTokens
{
    public ChatTokens(ITokenizer tokenizer)
    {
        Tokenizer = tokenizer;
        var missing = Names.Chat.Where(t => !tokenizer.SpecialTokens.ContainsKey(t)).ToList();
        if (missing.Count > 0)
            throw new ConfigurationException(
                $"the {tokenizer.Kind} tokenizer has no chat tokens ({string.Join(", ", missing)}); pre-train the base with --text synthetic or a tokenizer spec ending in +chat (char+chat, bpe:1000+chat)");
        int Id(string name) => tokenizer.SpecialTokens[name];
        (Bos, SystemStart, SystemEnd, UserStart, UserEnd) = (Id(Names.Bos), Id(Names.SystemStart), Id(Names.SystemEnd), Id(Names.UserStart), Id(Names.UserEnd));
        (AssistantStart, AssistantEnd, PythonStart, PythonEnd) = (Id(Names.AssistantStart), Id(Names.AssistantEnd), Id(Names.PythonStart), Id(Names.PythonEnd));
        (OutputStart, OutputEnd, Pad) = (Id(Names.OutputStart), Id(Names.OutputEnd), Id(Names.Pad));
    }

    /// <summary>A tokenizer with the chat markers added after its own vocabulary.</summary>
    public static ITokenizer AddTo(ITokenizer tokenizer) => new SpecialTokenTokenizer(tokenizer, Names.Chat);

    public ITokenizer Tokenizer { get; }
    public int Bos { get; }
    public int SystemStart { get; }
    public int SystemEnd { get; }
    public int UserStart { get; }
    public int UserEnd { get; }
    public int AssistantStart { get; }
    public int AssistantEnd { get; }
    public int PythonStart { get; }
    public int PythonEnd { get; }
    public int OutputStart { get; }
    public int OutputEnd { get; }
    public int Pad { get; }
}
