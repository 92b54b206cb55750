using System.Diagnostics;
using System.Globalization;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;

namespace Dataflow.Training;

/// <summary>
/// The one training loop, for every kind of run: resume, then step until <see cref="TrainingPlan.Steps"/>,
/// checking every loss; every <see cref="TrainingPlan.EvalEvery"/> steps evaluate, checkpoint (only
/// when every parameter and moment is finite) and maybe stop early; at the end average the snapshots
/// and report. What differs between kinds is the plan's batch source and evaluator. Progress goes to
/// observers; nothing here prints. Under <see cref="TrainingPlan.Parallel"/> with several ranks, each
/// rank trains on its shard of every global batch with gradients averaged over ranks, and rank 0
/// alone reports, evaluates and writes checkpoints (see Distributed/README.md). Under a
/// <see cref="TrainingPlan.Deadline"/> the loop also stops before a step that, with the evaluation and
/// checkpoint closing the run, would end past it.
/// </summary>
public sealed class Trainer
{
    private readonly TrainingPlan _plan;
    private readonly Session _session;
    private readonly ITrainingObserver _events;
    private readonly IDataParallel _parallel;
    private readonly IBatchSource _batches;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _firstStep;
    private double _trainingSeconds, _intervalSum, _finalLoss = double.NaN;
    private int _intervalSteps;
    private float _lastLoss = float.NaN;
    // The array each step's loss is read into, so the step itself allocates nothing.
    private readonly Dictionary<string, float[]> _lossInto = new(StringComparer.Ordinal) { [StepGraph.LossOutput] = new float[1] };
    private Evaluation? _last;
    private long _evaluatedAt = -1;
    private DeadlinePace? _pace;
    private CompiledProgram? _step;
    private TrainingBatch? _batch;

    private Trainer(TrainingPlan plan, Session session, ITrainingObserver events)
    {
        (_plan, _session, _parallel) = (plan, session, plan.Parallel);
        _events = IsRoot ? events : new ObserverList([]);
        _batches = plan.Batches;
        if (_parallel.Size == 1) return;
        _batches = new ShardedBatches(plan.Batches, plan.Model.Graph, _parallel.Rank, _parallel.Size);
        _session.GradientExchange = _parallel;
        _session.OptimizerSharding = _parallel.Sharding;
        _session.RandomStream = _parallel.Rank;    // each rank's examples get their own dropout masks
    }

    private bool IsRoot => _parallel.Rank == 0;

    /// <summary>Runs <paramref name="plan"/> on <paramref name="backend"/> (which the run disposes) and returns its summary.</summary>
    public static TrainResult Run(TrainingPlan plan, IBackend backend, params ITrainingObserver[] observers)
    {
        using var session = new Session(backend, plan.Seed, plan.Compile) { Optimizer = plan.Optimizer, Schedule = plan.Schedule };
        return new Trainer(plan, session, new ObserverList(observers)).Run();
    }

    private TrainResult Run()
    {
        var training = StepGraph.ForTraining(_plan.Model.Graph, withGradNorm: _plan.Optimizer.ClipNorm > 0);
        _session.DeclareParameters(_plan.Model.Graph);    // the initial weights depend on the seed alone
        if (_plan.FromPath is { } from && _plan.ResumePath is null)
        {
            SessionCheckpoint.LoadWeights(_session, _plan.Model.Graph, from);
            _events.OnMessage($"starting from the weights of {from}");
        }
        _plan.Prepare?.Invoke(_session);    // after the starting weights: a frozen reference copies them
        Resume();
        _events.OnStart(_plan.Title, _firstStep, _plan.Steps);
        if (_parallel.Size > 1) _events.OnMessage($"data-parallel over {_parallel.Size} ranks ({_parallel.Description}): each trains on 1/{_parallel.Size} of every global batch");
        _pace = _plan.Deadline is { } deadline ? new DeadlinePace(deadline) : null;
        if (_plan.EvaluateFirst && _session.Step == 0 && IsRoot)
        {
            double started = _pace?.Now ?? 0;
            Evaluate();
            _pace?.Closed(started);    // the first measure of what closing the run costs
        }
        var stop = new EarlyStop(_plan.Patience);
        var average = new ParameterAverage(_session.Parameters);
        bool stoppedAtDeadline = false;
        while (_session.Step < _plan.Steps)
        {
            if (StopsAtDeadline()) { stoppedAtDeadline = true; break; }
            double iterationStarted = _pace?.Now ?? 0;
            var batch = _batches.Next();
            var step = CompiledFor(training, batch);
            long started = Stopwatch.GetTimestamp();
            _lastLoss = _session.TrainStep(step, batch.Inputs, into: _lossInto).Results[StepGraph.LossOutput][0];
            if (_parallel.Size > 1) _lastLoss = (float)_parallel.Mean(_lastLoss);    // equal shards: the global batch's mean
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _trainingSeconds += seconds;
            if (!float.IsFinite(_lastLoss)) throw Diverged($"the loss became {_lastLoss}" + Diagnose(step, batch));
            (_intervalSum, _intervalSteps) = (_intervalSum + _lastLoss, _intervalSteps + 1);
            _events.OnStep(new StepReport(_session.Step, _plan.Steps, _lastLoss, _plan.Schedule.At(_session.Step - 1), batch.Examples, batch.Tokens, seconds) { Metrics = batch.Metrics });
            if (_plan.Averaging?.IsSnapshot(_session.Step) == true) average.Add();
            _pace?.Stepped(iterationStarted);
            if (_session.Step % _plan.EvalEvery != 0 && _session.Step != _plan.Steps) continue;

            double validationLoss = EvaluateAndCheckpoint();
            if (!stop.ShouldStop(validationLoss)) continue;
            _events.OnMessage($"early stop at step {_session.Step}: the validation loss has not improved for {stop.Patience} evaluations");
            break;
        }
        if (stoppedAtDeadline)
        {
            _events.OnMessage($"stopped at the deadline after {_session.Step} of {_plan.Steps} steps");
            if (_evaluatedAt != _session.Step) EvaluateAndCheckpoint();
        }
        if (IsRoot) _last ??= Evaluate();    // resumed at or past the last step: report on the checkpoint as it is
        if (average.Count > 0) ApplyAverage(average);
        return Finish(stoppedAtDeadline);
    }

    /// <summary>
    /// Whether the plan's deadline ends the run before the next step: at the pace measured so far the step
    /// and the closing evaluation and checkpoint (as long as the last ones took) would end past it. Never
    /// before this run's first step; rank 0 decides for every rank.
    /// </summary>
    private bool StopsAtDeadline()
    {
        if (_pace is not { } pace || _session.Step == _firstStep) return false;
        bool stop = IsRoot && !pace.Deadline.Allows(pace.SecondsPerStep + pace.ClosingSeconds);
        return _parallel.Size > 1 ? _parallel.FromRoot(stop ? 1 : 0) > 0 : stop;
    }

    /// <summary>The periodic evaluation (rank 0) and checkpoint; returns the validation loss every rank agrees on.</summary>
    private double EvaluateAndCheckpoint()
    {
        double started = _pace?.Now ?? 0;
        double validationLoss = _parallel.FromRoot(IsRoot ? Evaluate().Loss : double.NaN);
        SaveCheckpoint(averaged: 0);
        _evaluatedAt = _session.Step;
        _pace?.Closed(started);
        return validationLoss;
    }

    private void Resume()
    {
        if (_plan.ResumePath is not { } path) return;
        var checkpoint = SessionCheckpoint.Load(_session, _plan.Model.Graph, path);
        _plan.CheckResumed?.Invoke(checkpoint);
        _batches.SetState(checkpoint.RngState);
        _firstStep = _session.Step;
        _events.OnMessage($"resumed from {path} at step {_session.Step}");
    }

    /// <summary>The step compiled for the batch's shape; a source with one shape compiles once.</summary>
    private CompiledProgram CompiledFor(StepGraph training, TrainingBatch batch)
    {
        if (_step is not null && ReferenceEquals(batch.Bindings, _batch?.Bindings)) { _batch = batch; return _step; }
        bool first = _step is null;
        (_step, _batch) = (_session.Compile(training, batch.Bindings), batch);
        if (first && _plan.Verbose >= 1) _events.OnMessage($"device: {_session.Backend.Device.Name} ({_session.Backend.Name}); {_step.KernelCount} kernels per step");
        if (first && _plan.Verbose >= 1) _events.OnMessage(_step.DescribePlacement());
        if (first && _plan.Verbose >= 3) _events.OnMessage(_step.Describe(withTimings: false));
        if (first && _plan.Verbose >= 4) _events.OnMessage(_step.DescribeSources());
        return _step;
    }

    private Evaluation Evaluate()
    {
        _parallel.Heartbeat();
        var evaluation = _plan.Evaluator.Evaluate(_session);
        _parallel.Heartbeat();
        double intervalMean = _intervalSteps > 0 ? _intervalSum / _intervalSteps : double.NaN;
        (_intervalSum, _intervalSteps) = (0, 0);
        _finalLoss = double.IsNaN(evaluation.TrainLoss) ? intervalMean : evaluation.TrainLoss;
        _events.OnEvaluation(new EvaluationReport(_session.Step, _plan.Steps, _finalLoss, _session.CurrentLearningRate, _clock.Elapsed.TotalSeconds, evaluation));
        if (_plan.Verbose >= 1 && evaluation.Detail is { } detail) _events.OnMessage("  " + detail);
        return _last = evaluation;
    }

    /// <summary>
    /// Writes the checkpoint only when the run is sound: finite last training and validation losses,
    /// and every parameter and optimizer moment finite. Every rank checks (their state is identical,
    /// and the validation loss is rank 0's, so all stop together); rank 0 alone writes.
    /// </summary>
    private void SaveCheckpoint(int averaged)
    {
        if (_plan.CheckpointPath is not { } path || _session.Step <= _firstStep) return;
        // ZeRO-1: every moment from its owner to rank 0, so the file is the unsharded one. Rank 0 then
        // checks them all, and the others their own shard: a bad moment stops rank 0 before it writes.
        var moments = _session.Shards?.GatherStateToRoot(_session.Backend, _session.Optimizer.StateTensors);
        if (!float.IsFinite(_lastLoss)) throw Diverged($"the loss became {_lastLoss}");
        double validation = _parallel.FromRoot(_last?.Loss ?? 0);    // only rank 0 evaluates
        if (!double.IsFinite(validation)) throw Diverged($"the validation loss became {validation}");
        if (FiniteCheck.FirstNonFinite(_session, moments) is { } bad) throw Diverged(bad);
        if (!IsRoot) return;
        _parallel.Heartbeat();
        if (_plan.Lora is { } lora)
            SessionAdapter.Save(_session, _plan.Model.Graph, lora, _plan.FromPath!, path, _plan.CheckpointConfig(_session, averaged));
        else
            SessionCheckpoint.Save(_session, _plan.Model.Graph, path, _plan.CheckpointConfig(_session, averaged), _batches.GetState(), _plan.TokenizerJson, moments);
    }

    /// <summary>
    /// Where the step's non-finite loss came from. A step with a non-finite loss does not update the
    /// parameters, so re-running it kernel by kernel finds the first op that overflowed.
    /// </summary>
    private string Diagnose(CompiledProgram step, TrainingBatch batch) =>
        NonFiniteDiagnosis.Find(_session, step, batch.Inputs) is { } source ? $" ({source.Description})" : "";

    /// <summary>The one place a run is declared diverged; nothing is written after it.</summary>
    private TrainingDivergedException Diverged(string what)
    {
        string kept = _plan.CheckpointPath is { } path && File.Exists(path) ? $" ({path} keeps its last good state)" : "";
        return new TrainingDivergedException(_session.Step,
            $"step {_session.Step}: {what}; no checkpoint was written{kept}; try a smaller learning rate (--lr) or a longer warm-up (--warmup)");
    }

    private void ApplyAverage(ParameterAverage average)
    {
        average.Apply();
        if (IsRoot)
        {
            _last = _plan.Evaluator.Evaluate(_session);
            _events.OnMessage($"averaged the parameters of the last {average.Count} snapshots ({_plan.Averaging!.Value.Every} steps apart): {_last.Summary}");
            if (_plan.Verbose >= 1 && _last.Detail is { } detail) _events.OnMessage("  " + detail);
        }
        SaveCheckpoint(average.Count);
    }

    private TrainResult Finish(bool stoppedAtDeadline)
    {
        long trained = _session.Step - _firstStep;
        string memory = MemorySummary();    // a collective under data parallelism: before the other ranks return
        if (!IsRoot) return new TrainResult(_finalLoss, _session.Step, _plan.Epochs, double.NaN, double.NaN, _clock.Elapsed.TotalSeconds) { StoppedAtDeadline = stoppedAtDeadline };
        var final = _last!;
        if (_plan.FinalEvaluator is { } finalEvaluator)
        {
            final = finalEvaluator.Evaluate(_session);
            _events.OnMessage(final.Detail ?? final.Summary);
        }
        _events.OnMessage(string.Create(CultureInfo.InvariantCulture,
            $"trained {trained} steps in {_trainingSeconds:F1} s ({(trained > 0 ? 1000 * _trainingSeconds / trained : 0):F1} ms/step); {_clock.Elapsed.TotalSeconds:F1} s in all"));
        if (_parallel.Size > 1) _events.OnMessage(CommunicationSummary(trained));
        if (_parallel.Size > 1 || _plan.Verbose >= 1) _events.OnMessage(memory);
        if (_plan.Verbose >= 2 && _step is not null && _batch is not null) Profile(_step, _batch);
        var result = new TrainResult(_finalLoss, _session.Step, _plan.Epochs, final.Loss, final.Accuracy, _clock.Elapsed.TotalSeconds) { StoppedAtDeadline = stoppedAtDeadline };
        _events.OnEnd(result);
        return result;
    }

    /// <summary>What the gradient exchange cost rank 0: bytes all-reduced per step and the share of the step time spent in collectives.</summary>
    private string CommunicationSummary(long trained)
    {
        var stats = _parallel.Statistics;
        double perStep = stats.Exchanges > 0 ? stats.BytesReduced / (double)stats.Exchanges : 0;
        double communication = stats.Communication.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"communication: {perStep / 1e6:F3} MB all-reduced per step; {(trained > 0 ? 1000 * communication / trained : 0):F2} ms/step in collectives ({(_trainingSeconds > 0 ? 100 * communication / _trainingSeconds : 0):F1}% of the step time); " +
            $"gradient all-reduce {1000 * stats.GradientReduction.TotalSeconds / Math.Max(1, stats.Exchanges):F2} ms/step at {stats.BytesPerSecond / 1e6:F1} MB/s (time in MPI, waiting for the slowest rank included)");
    }

    /// <summary>
    /// Each rank's optimizer state as allocated on its device (ZeRO-1 keeps a shard per rank) and its
    /// peak resident memory (the kernel's VmHWM), gathered to every rank; rank 0 reports them.
    /// </summary>
    private string MemorySummary()
    {
        var state = _parallel.EveryRank(_session.Parameters.StateBytes);
        var peak = _parallel.EveryRank(Process.GetCurrentProcess().PeakWorkingSet64);
        string sharded = _session.Shards is null ? "" : string.Create(CultureInfo.InvariantCulture,
            $" (ZeRO-1 over {_parallel.Size} ranks; {_session.Parameters.Slots.Sum(s => s.Elements) * _session.Optimizer.StateTensors * sizeof(float) / 1e6:F3} MB unsharded)");
        string Megabytes(IReadOnlyList<double> bytes, string format) => string.Join(" / ", bytes.Select(b => (b / 1e6).ToString(format, CultureInfo.InvariantCulture)));
        string who = _parallel.Size > 1 ? " per rank" : "";
        return $"optimizer state{who}: {Megabytes(state, "F3")} MB on the device{sharded}; peak resident memory{who}: {Megabytes(peak, "F0")} MB";
    }

    /// <summary>Per-kernel timings of forward and backward without the update, so profiling leaves the trained model as it is.</summary>
    private void Profile(CompiledProgram step, TrainingBatch batch)
    {
        step.Profile = true;
        for (int i = 0; i < 5; i++) _session.Run(step, batch.Inputs, [StepGraph.LossOutput]);
        step.Profile = false;
        _events.OnMessage(step.Describe(withTimings: true));
    }
}
