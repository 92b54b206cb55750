namespace Dataflow.Graph.Dsl;

/// <summary>Reads a .dfg model file and lowers it to a graph of primitive ops.</summary>
public static class ModelLoader
{
    public static LoadedModel Load(string path, ModelOptions options)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var reason = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
            throw new DfgException(new Diagnostic(path, 0, 0, $"cannot read the model file: {reason}", ""));
        }
        return Lower(path, text, options, Path.GetFullPath(path));
    }

    /// <summary>Loads model text that did not come from disk; <paramref name="fileName"/> is what diagnostics call it.</summary>
    public static LoadedModel LoadSource(string fileName, string text, ModelOptions options) =>
        Lower(fileName, text, options, fileName);

    private static LoadedModel Lower(string fileName, string text, ModelOptions options, string sourcePath)
    {
        var source = new SourceText(fileName, text);
        var file = Parser.Parse(source);
        return new Lowerer(source, file, options).Run(sourcePath);
    }
}
