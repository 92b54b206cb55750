using Dataflow.Graph.Dsl;

namespace Dataflow.Tests.Reinforcement;

/// <summary>The policy losses' mistakes in a model file are diagnostics at the call.</summary>
public sealed class PolicyLossDslTests
{
    private const string Header = "model m(vocab = 5)\ninput logits : f32[B, T, vocab]\ninput targets : i32[B, T]\ninput mask : f32[B, T]\ninput adv : f32[B]\ninput old : f32[B, T]\n";

    private static DfgException Error(string line) =>
        Assert.Throws<DfgException>(() => ModelLoader.LoadSource("m.dfg", Header + line + "\n", new ModelOptions()));

    [Fact]
    public void AKlPenaltyWithoutAReferenceIsAnError()
    {
        var e = Error("loss = policy_loss(token_logprobs(logits, targets, mask), old, adv, mask, beta = 0.1)");
        Assert.Equal("policy_loss: beta > 0 needs ref_logp (the reference policy's log-probabilities)", e.Diagnostic.Message);
        Assert.Equal(7, e.Diagnostic.Line);
    }

    [Fact]
    public void AClipOutsideTheUnitIntervalIsAnError() =>
        Assert.Equal("policy_loss: clip must be in [0, 1), got 1.5",
            Error("loss = policy_loss(token_logprobs(logits, targets), old, adv, mask, clip = 1.5)").Diagnostic.Message);

    [Fact]
    public void AdvantagesOfTheWrongShapeNameBothShapes() =>
        Assert.Contains("advantages f32[B, T, 5] must be one per sequence (f32[B]) or one per token (f32[B, T])",
            Error("loss = policy_loss(token_logprobs(logits, targets), old, logits, mask)").Diagnostic.Message);

    [Fact]
    public void TargetsThatDoNotMatchTheLogitsAreAnError() =>
        Assert.Contains("token_logprobs: targets must be i32[B, T] to match logits f32[B, T, 5], got f32[B, T]",
            Error("y = token_logprobs(logits, mask)\noutput y").Diagnostic.Message);

    [Fact]
    public void DpoNeedsAPositiveBeta() =>
        Assert.Equal("dpo_loss: beta must be positive, got 0",
            Error("loss = dpo_loss(adv, adv, adv, adv, beta = 0)").Diagnostic.Message);

    [Fact]
    public void TheLossesLowerFromAModelFile()
    {
        var graph = ModelLoader.LoadSource("m.dfg", Header + "input ref : f32[B, T]\nlogp = token_logprobs(logits, targets, mask)\n" +
            "loss = policy_loss(logp, old, adv, mask, clip = 0.1, ref_logp = ref, beta = 0.04)\n", new ModelOptions()).Graph;
        Assert.NotNull(graph.Loss);
        Assert.Equal(0, graph.Loss!.Shape.Rank);
    }
}
