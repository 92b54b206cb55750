using Dataflow.Engine.Sessions;

namespace Dataflow.Training;

/// <summary>Finds the first parameter or optimizer moment of a session that holds a NaN or an infinity.</summary>
public static class FiniteCheck
{
    /// <summary>"parameter 'w1' holds NaN", or null when every value is finite.</summary>
    /// <param name="optimizerState">the moments to check instead of the session's own (ZeRO-1's, gathered to rank 0)</param>
    public static string? FirstNonFinite(Session session, IReadOnlyDictionary<string, float[][]>? optimizerState = null)
    {
        foreach (var slot in session.Parameters.Slots)
        {
            if (Bad(session.Parameters.Read(slot.Value, slot.Elements)) is { } value)
                return $"parameter '{slot.Name}' holds {value}";
            var moments = optimizerState is null ? slot.State.Select(s => session.Parameters.Read(s, slot.Elements)).ToArray() : optimizerState[slot.Name];
            for (int i = 0; i < moments.Length; i++)
                if (Bad(moments[i]) is { } moment)
                    return $"optimizer moment '{SessionCheckpoint.StateName(slot.Name, i, moments.Length)}' holds {moment}";
        }
        return null;
    }

    private static float? Bad(float[] values)
    {
        foreach (float v in values) if (!float.IsFinite(v)) return v;
        return null;
    }
}
