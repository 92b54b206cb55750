using Dataflow.Engine.Data;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Tests.LanguageModels;

public class StreamingAndBatchTests
{
    [Fact]
    public void Streaming_decoding_holds_back_split_utf8_characters()
    {
        // 256 byte tokens, the specials and no merges: every non-ASCII character is split over several tokens.
        var tokenizer = BpeTrainer.Train("plain ascii text only", 259);
        const string text = "héllo wörld — 你好 👋 done";
        var stream = new StreamingDecoder(tokenizer);
        var pieces = tokenizer.Encode(text).Select(stream.Push).ToList();
        pieces.Add(stream.Flush());
        Assert.Equal(text, string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.Contains("", pieces);    // something was held back
    }

    [Fact]
    public void Batches_are_random_windows_with_targets_shifted_by_one()
    {
        var tokens = Enumerable.Range(0, 100).ToArray();
        var sampler = new TokenBatchSampler(tokens, 8);
        var (inputs, targets) = (new int[3 * 8], new int[3 * 8]);
        sampler.Next(new SeededRandom(9), inputs, targets);
        for (int row = 0; row < 3; row++)
            for (int t = 0; t < 8; t++)
            {
                int i = row * 8 + t;
                Assert.Equal(inputs[row * 8] + t, inputs[i]);    // a contiguous window
                Assert.Equal(inputs[i] + 1, targets[i]);
                Assert.InRange(targets[i], 1, 99);
            }
        var again = new int[24];
        sampler.Next(new SeededRandom(9), again, new int[24]);
        Assert.Equal(inputs, again);
        Assert.Throws<DataException>(() => new TokenBatchSampler(tokens[..8], 8));
    }
}
