using Skiff.Engine;
using Skiff.Interop;

namespace Skiff.Cli.Tests;

/// <summary>The CLI's one mapping of error kinds (not exception types) to docker's exit statuses, and the line a user reads.</summary>
public sealed class ExitCodeTests
{
    [Theory]
    [InlineData(ExitStatuses.Run, ErrorKind.NotFound, true, 127)]
    [InlineData(ExitStatuses.Run, ErrorKind.PermissionDenied, true, 126)]
    [InlineData(ExitStatuses.Run, ErrorKind.NotFound, false, 125)]
    [InlineData(ExitStatuses.Run, ErrorKind.PermissionDenied, false, 125)]
    [InlineData(ExitStatuses.Run, ErrorKind.InvalidArgument, false, 125)]
    [InlineData(ExitStatuses.Run, ErrorKind.AlreadyExists, false, 125)]
    [InlineData(ExitStatuses.Run, ErrorKind.Conflict, false, 125)]
    [InlineData(ExitStatuses.Run, ErrorKind.FailedPrecondition, false, 125)]
    [InlineData(ExitStatuses.Run, ErrorKind.ResourceExhausted, false, 125)]
    [InlineData(ExitStatuses.Run, ErrorKind.Unavailable, false, 125)]
    [InlineData(ExitStatuses.Run, ErrorKind.Canceled, false, 125)]
    [InlineData(ExitStatuses.Run, ErrorKind.Internal, false, 125)]
    [InlineData(ExitStatuses.Create, ErrorKind.InvalidArgument, false, 125)]
    [InlineData(ExitStatuses.Create, ErrorKind.NotFound, false, 1)]
    [InlineData(ExitStatuses.Create, ErrorKind.AlreadyExists, false, 1)]
    [InlineData(ExitStatuses.Exec, ErrorKind.NotFound, true, 127)]
    [InlineData(ExitStatuses.Exec, ErrorKind.PermissionDenied, true, 126)]
    [InlineData(ExitStatuses.Exec, ErrorKind.FailedPrecondition, false, 1)]
    [InlineData(ExitStatuses.Plain, ErrorKind.NotFound, true, 1)]
    [InlineData(ExitStatuses.Plain, ErrorKind.NotFound, false, 1)]
    [InlineData(ExitStatuses.Plain, ErrorKind.FailedPrecondition, false, 1)]
    [InlineData(ExitStatuses.Plain, ErrorKind.InvalidArgument, false, 1)]
    [InlineData(ExitStatuses.Plain, ErrorKind.Internal, false, 1)]
    public void Kinds_map_to_dockers_statuses_per_command(ExitStatuses statuses, ErrorKind kind, bool containerCommand, int status)
        => Assert.Equal(status, Program.ExitCode(kind, containerCommand, statuses));

    [Fact]
    public void A_failure_of_the_command_line_itself_exits_1_as_dockers_cli_whatever_its_kind()
    {
        Assert.Equal(1, Program.Report(new CliFailure(ErrorKind.FailedPrecondition, "the input device is not a TTY"), ExitStatuses.Run));
        Assert.Equal(1, Program.Report(new CliFailure(ErrorKind.NotFound, "no such file in the container")));
        Assert.Equal(125, Program.Report(new EngineException(ErrorKind.NotFound, "no such image: x"), ExitStatuses.Run));
        Assert.Equal(1, Program.Report(new EngineException(ErrorKind.NotFound, "no such volume: data")));
    }

    [Fact]
    public void A_system_exception_is_reported_by_its_kind_not_its_type()
    {
        // Not a type the CLI knows: the kind comes from the errno .NET put in HResult.
        var diskFull = new IOException("No space left on device : '/var/lib/skiff/content/ingest/tmp-1/data'", Errno.ENOSPC);
        Assert.Equal(ErrorKind.ResourceExhausted, ErrorKinds.Of(diskFull));
        Assert.True(ErrorKinds.IsExpected(diskFull));
        Assert.Equal("no space left on device : '/var/lib/skiff/content/ingest/tmp-1/data'", Program.Message(diskFull));
        Assert.Equal(127, Program.ExitCode(ErrorKinds.Of(new EngineException(ErrorKind.NotFound, "x") { ContainerCommand = true }), containerCommand: true, ExitStatuses.Run));
    }

    [Fact]
    public void A_store_failure_is_a_sentence_naming_the_object_with_the_systems_words()
    {
        var described = SystemErrors.Describe(new IOException("No space left on device : '/store/content/ingest/tmp-1/data'", Errno.ENOSPC),
            "cannot import rootfs.tar into the image store /store");
        Assert.Equal(ErrorKind.ResourceExhausted, ErrorKinds.Of(described));
        Assert.Equal("cannot import rootfs.tar into the image store /store: no space left on device", Program.Message(described));
        Assert.Equal("cannot read /x: permission denied",
            Program.Message(SystemErrors.Describe(new UnauthorizedAccessException("Access to the path '/x' is denied."), "cannot read /x")));
        var own = new EngineException(ErrorKind.NotFound, "no such volume: data");
        Assert.Same(own, SystemErrors.Describe(own, "ignored"));
    }
}
