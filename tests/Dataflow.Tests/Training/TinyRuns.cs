using Dataflow.Engine.Data;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Tests.Dsl;
using Dataflow.Training;

namespace Dataflow.Tests.Training;

/// <summary>
/// A small classifier (mlp.dfg's small preset) on seeded random images, as a <see cref="TrainingPlan"/>
/// whose evaluator the test chooses: fast enough to run the whole Trainer in a test.
/// </summary>
internal static class TinyRuns
{
    public const int Batch = 8;

    public static LoadedModel Model(bool training) => DslTestSupport.LoadModel("mlp.dfg", "small", training: training);

    public static TrainingPlan Plan(IEvaluator evaluator, long steps = 12, long evalEvery = 4, double lr = 1e-3, string? checkpoint = null) => new()
    {
        Title = "tiny",
        Model = Model(training: true),
        Batches = new RandomImages(Batch, seed: 3),
        Evaluator = evaluator,
        Steps = steps,
        EvalEvery = evalEvery,
        Optimizer = new OptimizerConfig { LearningRate = lr },
        Schedule = new ConstantSchedule(lr),
        CheckpointConfig = (_, _) => new Dictionary<string, string> { ["kind"] = "tiny" },
        CheckpointPath = checkpoint,
    };

    /// <summary>The plan's loss on one fixed batch of the dropout-free model.</summary>
    public sealed class FixedBatchLoss : IEvaluator
    {
        private readonly StepGraph _inference = StepGraph.ForwardOnly(Model(training: false).Graph);
        private readonly TrainingBatch _batch = new RandomImages(Batch, seed: 99).Next();

        public Evaluation Evaluate(Session session)
        {
            var graph = session.Compile(_inference, _batch.Bindings);
            double loss = session.Run(graph, _batch.Inputs, [StepGraph.LossOutput]).Results[StepGraph.LossOutput][0];
            return new Evaluation(loss, [Evaluation.Metric("val_loss", loss)]);
        }
    }

    /// <summary>Images of uniform noise with random labels, from a checkpointable generator.</summary>
    public sealed class RandomImages(int batch, ulong seed) : IBatchSource
    {
        private readonly SeededRandom _random = new(seed);
        private readonly float[] _images = new float[batch * 784];
        private readonly int[] _labels = new int[batch];
        private readonly Dictionary<string, long> _bindings = new() { ["B"] = batch };

        public TrainingBatch Next()
        {
            for (int i = 0; i < _images.Length; i++) _images[i] = (float)_random.NextDouble();
            for (int i = 0; i < _labels.Length; i++) _labels[i] = _random.NextInt(10);
            return new TrainingBatch(_bindings, new Dictionary<string, Array> { ["image"] = _images, ["label"] = _labels }, batch);
        }

        public byte[] GetState() => _random.GetState();
        public void SetState(ReadOnlySpan<byte> state) => _random.SetState(state);
    }
}
