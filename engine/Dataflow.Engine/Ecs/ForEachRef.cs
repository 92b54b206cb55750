namespace Dataflow.Engine.Ecs;

// The component arguments are refs into chunk storage: valid for the call only, and writes land in the world.
public delegate void ForEachRef<T1>(ref T1 c1);
public delegate void ForEachRef<T1, T2>(ref T1 c1, ref T2 c2);
public delegate void ForEachRef<T1, T2, T3>(ref T1 c1, ref T2 c2, ref T3 c3);
public delegate void ForEachRef<T1, T2, T3, T4>(ref T1 c1, ref T2 c2, ref T3 c3, ref T4 c4);

public delegate void ForEachWithEntityRef<T1>(Entity entity, ref T1 c1);
public delegate void ForEachWithEntityRef<T1, T2>(Entity entity, ref T1 c1, ref T2 c2);
public delegate void ForEachWithEntityRef<T1, T2, T3>(Entity entity, ref T1 c1, ref T2 c2, ref T3 c3);
public delegate void ForEachWithEntityRef<T1, T2, T3, T4>(Entity entity, ref T1 c1, ref T2 c2, ref T3 c3, ref T4 c4);
