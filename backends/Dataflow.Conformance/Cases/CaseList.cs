namespace Dataflow.Conformance.Cases;

/// <summary>Collects cases with less ceremony: <c>list.Add("op", "what", b => ...)</c> names the case "op/what".</summary>
internal sealed class CaseList : List<ConformanceCase>
{
    public void Add(string op, string what, Action<CaseBuilder> build) => Add(new ConformanceCase($"{op}/{what}", op, build));

    /// <summary>"[2,3,5]" for case names.</summary>
    public static string Dims(long[] shape) => "[" + string.Join(",", shape) + "]";
}
