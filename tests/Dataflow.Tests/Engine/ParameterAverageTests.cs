using Dataflow.Backends.Cpu;
using Dataflow.Engine.Sessions;

namespace Dataflow.Tests.Engine;

public sealed class ParameterAverageTests
{
    [Fact]
    public void ApplyWritesTheMeanOfTheSnapshotsIntoEveryParameter()
    {
        using var session = new Session(new CpuBackend(), seed: 1);
        session.DeclareParameters(TestGraphs.Classifier(2, 3));
        var slots = session.Parameters.Slots.ToList();
        Assert.True(slots.Count >= 2, "the classifier should have a weight and a bias");
        var average = new ParameterAverage(session.Parameters);

        // Three snapshots where element i of every parameter is i + k (k = 0, 1, 5): the mean is i + 2.
        foreach (int k in new[] { 0, 1, 5 })
        {
            foreach (var slot in slots)
                session.Parameters.Write(slot.Value, Enumerable.Range(0, (int)slot.Elements).Select(i => (float)(i + k)).ToArray());
            average.Add();
        }
        average.Apply();

        Assert.Equal(3, average.Count);
        foreach (var slot in slots)
            Assert.Equal(Enumerable.Range(0, (int)slot.Elements).Select(i => (float)(i + 2)), session.Parameters.Read(slot.Value, slot.Elements));
    }

    [Fact]
    public void ApplyWithoutASnapshotIsAnError()
    {
        using var session = new Session(new CpuBackend(), seed: 1);
        session.DeclareParameters(TestGraphs.Classifier(2, 3));
        Assert.Throws<InvalidOperationException>(() => new ParameterAverage(session.Parameters).Apply());
    }
}
