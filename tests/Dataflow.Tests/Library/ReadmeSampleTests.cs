using Dataflow.Tests.Support;

namespace Dataflow.Tests.Library;

/// <summary>
/// The README's C# program, extracted from README.md so the two cannot drift, built against the
/// library projects and run; then packed as NuGet packages and consumed by package reference.
/// </summary>
public sealed class ReadmeSampleTests
{
    private static string Project(string name) => Path.Combine(SampleProgram.RepositoryRoot, name);

    [Fact]
    public void The_readme_program_builds_against_the_library_projects_and_trains_then_generates()
    {
        using var dir = new TempDirectory();
        string models = Path.Combine(SampleProgram.RepositoryRoot, "graph", "models");
        SampleProgram.Write(dir.Path, SampleProgram.FromReadme(), $"""
                <ProjectReference Include="{Project("engine/Dataflow.Training/Dataflow.Training.csproj")}" AdditionalProperties="Configuration={SampleProgram.Configuration}" />
                <ProjectReference Include="{Project("engine/Dataflow.Generation/Dataflow.Generation.csproj")}" AdditionalProperties="Configuration={SampleProgram.Configuration}" />
                <ProjectReference Include="{Project("backends/Dataflow.Backends/Dataflow.Backends.csproj")}" AdditionalProperties="Configuration={SampleProgram.Configuration}" />
                <None Include="{models}/*.dfg" Link="models/%(Filename)%(Extension)" CopyToOutputDirectory="PreserveNewest" />
            """);
        // The libraries are built already (this test assembly references them): build only the sample.
        SampleProgram.AssertItTrainedAndGenerated(SampleProgram.BuildAndRun(dir.Path, "--no-dependencies"));
    }

    [Fact]
    public void The_packed_packages_serve_the_same_program_by_package_reference()
    {
        using var dir = new TempDirectory();
        string feed = Directory.CreateDirectory(dir.File("feed")).FullName;
        SampleProgram.Run(SampleProgram.RepositoryRoot, "dotnet", "pack", "Dataflow.sln", "-c", SampleProgram.Configuration, "--no-build", "--nologo", "-v", "q", "-o", feed);
        Assert.Equal(
            ["Dataflow.Backends", "Dataflow.Backends.Cpu", "Dataflow.Backends.OpenCL", "Dataflow.Backends.Vulkan", "Dataflow.Chat", "Dataflow.Engine", "Dataflow.Generation", "Dataflow.Graph", "Dataflow.Mpi", "Dataflow.Reinforcement", "Dataflow.Speedrun", "Dataflow.Training", "Dataflow.Training.Mpi"],
            Directory.GetFiles(feed, "*.nupkg").Select(f => Path.GetFileName(f)[..^".0.1.0.nupkg".Length]).Order(StringComparer.Ordinal));

        string app = Directory.CreateDirectory(dir.File("app")).FullName;
        // Dataflow.Graph directly too: it carries the model files, and NuGet passes content files on to direct consumers only.
        SampleProgram.Write(app, SampleProgram.FromReadme(), """
                <PackageReference Include="Dataflow.Graph" Version="0.1.0" />
                <PackageReference Include="Dataflow.Training" Version="0.1.0" />
                <PackageReference Include="Dataflow.Generation" Version="0.1.0" />
                <PackageReference Include="Dataflow.Backends" Version="0.1.0" />
            """);
        // The local feed first, then this machine's package cache and the normal source for the
        // libraries' own dependencies; a private package folder, so no stale Dataflow 0.1.0 is reused.
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{dir.File("packages")}" /></config>
              <packageSources>
                <clear />
                <add key="dataflow" value="{feed}" />
                <add key="cache" value="{cache}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        SampleProgram.AssertItTrainedAndGenerated(SampleProgram.BuildAndRun(app));
    }
}
