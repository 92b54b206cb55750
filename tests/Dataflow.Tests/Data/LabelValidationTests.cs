using Dataflow.Engine.Data;

namespace Dataflow.Tests.Data;

public sealed class LabelValidationTests
{
    [Fact]
    public void LabelsBelowTheClassCountPass() => LabelValidation.RequireClassIndices([0, 9, 3, 9], 10, "train");

    [Fact]
    public void ALabelAtOrAboveClassesIsRefusedNamingTheLabelAndTheModelsClasses()
    {
        var error = Assert.Throws<DataException>(() => LabelValidation.RequireClassIndices([0, 4, 9, 7, 9], 5, "fashion-mnist train"));
        Assert.Equal("fashion-mnist train: example 2 has the label 9, but the model has classes = 5 (labels 0..4); the data needs classes = 10 or more",
            error.Message);
    }

    [Fact]
    public void NegativeLabelsAndNoClassesAreRefused()
    {
        Assert.Contains("label -1", Assert.Throws<DataException>(() => LabelValidation.RequireClassIndices([0, -1], 5, "d")).Message);
        Assert.Contains("classes = 0", Assert.Throws<DataException>(() => LabelValidation.RequireClassIndices([0], 0, "d")).Message);
    }
}
