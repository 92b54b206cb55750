using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;
using Dataflow.Tests.Dsl;

namespace Dataflow.Tests.Lora;

/// <summary>The model file's <c>lora(...)</c> line, the <c>--lora</c> value's parser, and what lowering with LoRA adds and freezes.</summary>
public sealed class LoraDeclarationTests
{
    private const string Model = """
        model m(d = 8, heads = 2, r = 4)
        lora(rank = r, alpha = 2 * r, targets = [qkv, fc])
        input x : f32[B, T, 8]
        y = mlp(attention(x, heads, causal = true), 16)
        output y
        """;

    [Fact]
    public void TheDeclarationIsReadButAddsNoAdaptersByItself()
    {
        var model = DslTestSupport.Load(Model, training: false);
        var declared = model.DeclaredLora!;
        Assert.Equal((4, 8.0), (declared.Rank, declared.Alpha));
        Assert.Equal(["qkv", "fc"], declared.Targets!);
        Assert.DoesNotContain(model.Graph.Parameters, p => p.Category == ParamCategory.Adapter);
        Assert.All(model.Graph.Parameters, p => Assert.True(p.Trainable));
    }

    [Fact]
    public void LoweringWithLoraAddsAAndBToTheTargetedLinearsAndFreezesTheRest()
    {
        var declared = DslTestSupport.Load(Model, training: false).DeclaredLora!;
        var config = LoraSpec.Empty.Resolve(declared);
        var graph = ModelLoader.LoadSource("test.dfg", Model, new ModelOptions(Training: false) { Lora = config }).Graph;

        var adapters = graph.Parameters.Where(p => p.Category == ParamCategory.Adapter).ToDictionary(p => p.Name, p => p.Node.Shape.ToConcrete());
        Assert.Equal(["attention.qkv.lora_a", "attention.qkv.lora_b", "y.fc.lora_a", "y.fc.lora_b"], adapters.Keys.Order());    // mlp's scope is its assignment
        Assert.Equal([8L, 4], adapters["attention.qkv.lora_a"]);
        Assert.Equal([4L, 24], adapters["attention.qkv.lora_b"]);
        Assert.Equal([4L, 16], adapters["y.fc.lora_b"]);
        Assert.Equal(adapters.Keys.Order(), graph.TrainableParameters.Select(p => p.Name).Order());
        Assert.Contains(graph.Parameters, p => p.Name == "attention.proj.weight" && !p.Trainable);
        Assert.Equal(2.0, config.Scale);
    }

    [Fact]
    public void AnUnknownTargetInTheFileIsADiagnosticAtItsName()
    {
        var d = DslTestSupport.Diagnose(Model.Replace("[qkv, fc]", "[qkv, fcc]"));
        Assert.Equal((2, 47), (d.Line, d.Column));
        Assert.Contains("'fcc' is not a LoRA target (did you mean 'fc'?)", d.Message);
    }

    [Fact]
    public void AnUnknownSettingAndASecondLoraLineAreDiagnostics()
    {
        Assert.Contains("lora has no setting 'rnak' (did you mean 'rank'?)", DslTestSupport.Diagnose(Model.Replace("rank = r", "rnak = r")).Message);
        var twice = DslTestSupport.Diagnose(Model.Replace("input x", "lora(rank = 2)\ninput x"));
        Assert.Equal(3, twice.Line);
        Assert.Contains("'lora' is declared twice (first at line 2)", twice.Message);
    }

    [Fact]
    public void ATargetThatMatchesNoLinearOfTheModelIsRefused()
    {
        var options = new ModelOptions(Training: false) { Lora = new LoraConfig(4, 8, ["kv"]) };
        var d = DslTestSupport.Diagnose(Model, options);
        Assert.Contains("LoRA target 'kv'", d.Message);
        Assert.Contains("matches no linear of model m (its linears: fc, mlp_proj, proj, qkv)", d.Message);
    }

    [Fact]
    public void TheFlagValueParsesKeyValuePairsWithTargetsRunningOn()
    {
        var spec = LoraSpec.Parse("rank=8,alpha=16,targets=qkv,proj");
        Assert.Equal(8, spec.Rank);
        Assert.Equal(16, spec.Alpha);
        Assert.Equal(["qkv", "proj"], spec.Targets);
        Assert.Equal(LoraSpec.Empty, LoraSpec.Parse(""));
        var partial = LoraSpec.Parse("rank=2").Resolve(new LoraSpec(Alpha: 3, Targets: ["fc"]));
        Assert.Equal((2, 3.0), (partial.Rank, partial.Alpha));
        Assert.Equal(["fc"], partial.Targets);
        var defaults = LoraSpec.Empty.Resolve();
        Assert.Equal((8, 16.0), (defaults.Rank, defaults.Alpha));
        Assert.Equal(["qkv", "proj"], defaults.Targets);
        Assert.Equal("rank=8,alpha=16,targets=qkv,proj", LoraSpec.Parse("rank=8,alpha=16,targets=qkv,proj").Resolve().ToString());
    }

    [Theory]
    [InlineData("rank=0", "rank '0': must be a whole number, 1 or more")]
    [InlineData("rank=2.5", "rank '2.5'")]
    [InlineData("alpha=-1", "alpha '-1': must be a finite number greater than 0")]
    [InlineData("alpha=nan", "alpha 'nan'")]
    [InlineData("targets=qkv,fcc", "'fcc' is not a LoRA target (did you mean 'fc'?)")]
    [InlineData("targets=", "targets= needs at least one target")]
    [InlineData("rnak=3", "unknown key 'rnak' (did you mean 'rank'?)")]
    [InlineData("rank=2,rank=3", "'rank' is given twice")]
    [InlineData("rank=2,,alpha=1", "an empty item between commas")]
    [InlineData("qkv", "'qkv' is not key=value")]
    public void AMalformedFlagValueNamesThePieceAtFault(string text, string message) =>
        Assert.Contains(message, Assert.Throws<LoraException>(() => LoraSpec.Parse(text)).Message);
}
