using System.Diagnostics;
using System.Text.RegularExpressions;
using Dataflow.Tests.Dsl;

namespace Dataflow.Tests.Library;

/// <summary>
/// The README's C# program as a separate console project in a temporary folder: built with
/// <c>dotnet build</c> against the library projects or the packed packages, then run with <c>dotnet</c>.
/// </summary>
internal static class SampleProgram
{
    public static string RepositoryRoot => Path.GetDirectoryName(DslTestSupport.ModelsDirectory)! is var graph ? Path.GetDirectoryName(graph)! : "";

    /// <summary>Release or Debug: whatever this test assembly was built as, so the libraries' outputs exist.</summary>
    public static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";

    /// <summary>The code block under "## Use it from C#" in README.md, exactly.</summary>
    public static string FromReadme()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot, "README.md"));
        var match = Regex.Match(readme, @"## Use it from C#.*?```csharp\n(?<code>.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, "README.md has no ```csharp block under '## Use it from C#'");
        return match.Groups["code"].Value;
    }

    /// <summary>A console project around <paramref name="code"/>; <paramref name="references"/> are the csproj lines that bring the libraries in.</summary>
    public static void Write(string directory, string code, string references)
    {
        File.WriteAllText(Path.Combine(directory, "Program.cs"), code);
        File.WriteAllText(Path.Combine(directory, "Sample.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <WarningsNotAsErrors>NU1603;NU1901;NU1902;NU1903;NU1904</WarningsNotAsErrors>
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
              <ItemGroup>
            {references}
              </ItemGroup>
            </Project>
            """);
        // Stop MSBuild from picking up the repository's Directory.Build.props if the temp folder is ever inside it.
        File.WriteAllText(Path.Combine(directory, "Directory.Build.props"), "<Project />");
    }

    /// <summary>Runs a command in <paramref name="directory"/>; fails the test with its output unless it exits 0.</summary>
    public static string Run(string directory, string fileName, params string[] args)
    {
        var start = new ProcessStartInfo(fileName) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{fileName} {string.Join(' ', args)}: exit {process.ExitCode}\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    /// <summary>Builds the project in <paramref name="directory"/> and runs it; returns what it printed.</summary>
    public static string BuildAndRun(string directory, params string[] buildArgs)
    {
        // No -o: it is a global property, so the referenced projects' outputs would be looked for there too.
        Run(directory, "dotnet", ["build", "Sample.csproj", "-c", "Release", "--nologo", "-v", "q", .. buildArgs]);
        return Run(directory, "dotnet", Path.Combine(directory, "bin", "Release", "net10.0", "Sample.dll"));
    }

    /// <summary>What the README's program must print: the summary line and, greedily, the verse it learned.</summary>
    public static void AssertItTrainedAndGenerated(string output)
    {
        Assert.Contains("trained 200 steps: validation loss", output);
        Assert.Contains("the cat sat on the mat.\nthe dog sat on the log.", output);
    }
}
