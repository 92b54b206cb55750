using Dataflow.Graph.Checkpoints;

namespace Dataflow.Tests.Checkpoints;

public sealed class CheckpointValidatorTests
{
    private static Checkpoint WithTensors(string graph, params NamedTensor[] tensors) => new()
    {
        Header = CheckpointHeader.Create(graph, "0000000000000000", 0, SampleCheckpoints.Created, new Dictionary<string, string>()),
        Tensors = tensors,
        OptimizerState = [],
        RngState = [],
    };

    private static NamedTensor Zeros(string name, params long[] shape) =>
        NamedTensor.FromFloats(name, shape, new float[shape.Aggregate(1L, (a, b) => a * b)]);

    [Fact]
    public void MatchingCheckpointPasses()
    {
        var ckpt = WithTensors("mlp", Zeros("l1.weight", 4, 3), Zeros("l1.bias", 3));

        CheckpointValidator.CheckMatches(ckpt, "m.ckpt", "mlp", SampleCheckpoints.MlpLayout);
    }

    [Fact]
    public void ShapeMismatchNamesTheTensorAndBothShapes()
    {
        var ckpt = WithTensors("mlp", Zeros("l1.weight", 784, 16));

        var error = Assert.Throws<CheckpointException>(() =>
            CheckpointValidator.CheckMatches(ckpt, "m.ckpt", "mlp", [("l1.weight", [784, 512])]));

        Assert.Equal("m.ckpt: tensor 'l1.weight' has shape [784, 16] in the checkpoint but [784, 512] in model mlp", error.Message);
    }

    [Fact]
    public void MissingTensorIsNamedWithTheModelTheFileCameFrom()
    {
        var ckpt = WithTensors("cnn", Zeros("l1.weight", 4, 3));

        var error = Assert.Throws<CheckpointException>(() =>
            CheckpointValidator.CheckMatches(ckpt, "m.ckpt", "mlp", SampleCheckpoints.MlpLayout));

        Assert.Equal("m.ckpt: tensor 'l1.bias' of model mlp is missing from the checkpoint (the checkpoint was saved from model cnn)", error.Message);
    }

    [Fact]
    public void UnexpectedTensorIsNamed()
    {
        var ckpt = WithTensors("mlp", Zeros("l1.weight", 4, 3), Zeros("l1.bias", 3), Zeros("l2.weight", 3, 2));

        var error = Assert.Throws<CheckpointException>(() =>
            CheckpointValidator.CheckMatches(ckpt, "m.ckpt", "mlp", SampleCheckpoints.MlpLayout));

        Assert.Equal("m.ckpt: tensor 'l2.weight' in the checkpoint is not a parameter of model mlp", error.Message);
    }
}
