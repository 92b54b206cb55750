using Dataflow.Mpi;
using Dataflow.Runner.Cli;

namespace Dataflow.Tests.Runner;

public class MpiErrorReportingTests
{
    [Fact]
    public void AMissingLibmpiIsAnEnvironmentError() =>
        Assert.Equal(ExitCodes.Environment, ErrorReporter.Report(new MpiUnavailableException("libmpi.so.40 was not found"), 0));

    [Fact]
    public void AFailedMpiCallIsAnEnvironmentError() =>
        Assert.Equal(ExitCodes.Environment, ErrorReporter.Report(new MpiException("MPI_Allreduce", 15, "MPI_ERR_PROC_FAILED"), 0));
}
