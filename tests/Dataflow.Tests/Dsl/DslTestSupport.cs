using Dataflow.Graph.Dsl;

namespace Dataflow.Tests.Dsl;

/// <summary>Finds model files and loads model text for the DSL tests.</summary>
internal static class DslTestSupport
{
    /// <summary>graph/models of this checkout, found by walking up to the folder holding Dataflow.sln.</summary>
    public static string ModelsDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Dataflow.sln")))
                    return Path.Combine(dir.FullName, "graph", "models");
            throw new InvalidOperationException("Dataflow.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string ModelPath(string fileName) => Path.Combine(ModelsDirectory, fileName);

    public static LoadedModel LoadModel(string fileName, string? preset = null, IReadOnlyDictionary<string, string>? overrides = null, bool training = true) =>
        ModelLoader.Load(ModelPath(fileName), new ModelOptions(preset, overrides, training));

    public static LoadedModel Load(string text, bool training = true) =>
        ModelLoader.LoadSource("test.dfg", text, new ModelOptions(Training: training));

    /// <summary>The diagnostic that loading <paramref name="text"/> must produce.</summary>
    public static Diagnostic Diagnose(string text, ModelOptions? options = null) =>
        Assert.Throws<DfgException>(() => ModelLoader.LoadSource("test.dfg", text, options ?? new ModelOptions())).Diagnostic;

    public static long ParameterCount(LoadedModel model) => model.Graph.ParameterCount();
}
