using Dataflow.Engine.Sessions;

namespace Dataflow.Training;

/// <summary>Finds the first parameter or optimizer moment of a session that holds a NaN or an infinity.</summary>
public static class FiniteCheck
{
    /// <summary>"parameter 'w1' holds NaN", or null when every value is finite.</summary>
    public static string? FirstNonFinite(Session session)
    {
        foreach (var slot in session.Parameters.Slots)
        {
            if (Bad(session.Parameters.Read(slot.Value, slot.Elements)) is { } value)
                return $"parameter '{slot.Name}' holds {value}";
            for (int i = 0; i < slot.State.Length; i++)
                if (Bad(session.Parameters.Read(slot.State[i], slot.Elements)) is { } moment)
                    return $"optimizer moment '{SessionCheckpoint.StateName(slot.Name, i, slot.State.Length)}' holds {moment}";
        }
        return null;
    }

    private static float? Bad(float[] values)
    {
        foreach (float v in values) if (!float.IsFinite(v)) return v;
        return null;
    }
}
