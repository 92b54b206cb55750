namespace Dataflow.Training;

/// <summary><paramref name="Count"/> parameter snapshots <paramref name="Every"/> steps apart, the last at step <paramref name="Last"/>.</summary>
public readonly record struct SnapshotSchedule(int Count, long Every, long Last)
{
    public bool IsSnapshot(long step) => step <= Last && (Last - step) % Every == 0 && (Last - step) / Every < Count;
}
