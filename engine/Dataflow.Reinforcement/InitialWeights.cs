using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;

namespace Dataflow.Reinforcement;

/// <summary>Starting a run from another run's checkpoint (SFT before RL): its weights, but step 0 and fresh optimizer moments.</summary>
public static class InitialWeights
{
    public static void Load(Session session, ComputeGraph graph, string path)
    {
        SessionCheckpoint.Load(session, graph, path);
        session.Step = 0;
        session.Parameters.EnsureState(0);    // the next step allocates zeroed moments
    }
}
