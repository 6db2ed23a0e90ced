using System.ComponentModel;
using System.Diagnostics;
using static Skiff.Interop.Interop;

namespace Skiff.Interop.Tests;

/// <summary>Kinds of real failures: each exception comes from a system call the kernel refused, not from a constructor.</summary>
public sealed class ErrorKindsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-interop-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(Errno.ENOENT, ErrorKind.NotFound)]
    [InlineData(Errno.ESRCH, ErrorKind.NotFound)]
    [InlineData(Errno.EEXIST, ErrorKind.AlreadyExists)]
    [InlineData(Errno.ENOTEMPTY, ErrorKind.AlreadyExists)]
    [InlineData(Errno.EPERM, ErrorKind.PermissionDenied)]
    [InlineData(Errno.EACCES, ErrorKind.PermissionDenied)]
    [InlineData(Errno.EROFS, ErrorKind.PermissionDenied)]
    [InlineData(Errno.EINVAL, ErrorKind.InvalidArgument)]
    [InlineData(Errno.ELOOP, ErrorKind.InvalidArgument)]
    [InlineData(Errno.EBUSY, ErrorKind.FailedPrecondition)]
    [InlineData(Errno.ENOSPC, ErrorKind.ResourceExhausted)]
    [InlineData(Errno.EMFILE, ErrorKind.ResourceExhausted)]
    [InlineData(Errno.ECONNREFUSED, ErrorKind.Unavailable)]
    [InlineData(Errno.EINTR, ErrorKind.Canceled)]
    [InlineData(Errno.EBADF, ErrorKind.Internal)]
    public void ErrnoHasItsKind(int errno, ErrorKind kind) => Assert.Equal(kind, ErrorKinds.OfErrno(errno));

    [Fact]
    public void AMissingFileIsNotFound()
    {
        var error = Assert.Throws<FileNotFoundException>(() => File.ReadAllText(Path.Join(_directory, "missing")));
        Assert.Equal(ErrorKind.NotFound, ErrorKinds.Of(error));
    }

    [Fact]
    public void AMissingDirectoryIsNotFound()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => File.WriteAllText(Path.Join(_directory, "missing", "file"), ""));
        Assert.Equal(ErrorKind.NotFound, ErrorKinds.Of(error));
    }

    [Fact]
    public void AFileTheKernelRefusesEvenToRootIsPermissionDenied()
    {
        // sysfs has no create operation: open(O_CREAT) there is EACCES for every user, root included.
        var error = Assert.Throws<UnauthorizedAccessException>(() => File.WriteAllText("/sys/skiff-interop-test", ""));
        Assert.Equal(ErrorKind.PermissionDenied, ErrorKinds.Of(error));
    }

    [Fact]
    public void AnIOExceptionHasTheKindOfItsErrno()
    {
        var loop = Path.Join(_directory, "loop");
        File.CreateSymbolicLink(loop, loop);
        var error = Assert.ThrowsAny<IOException>(() => File.ReadAllText(loop));
        Assert.Equal(Errno.ELOOP, error.HResult);
        Assert.Equal(ErrorKind.InvalidArgument, ErrorKinds.Of(error));
    }

    [Fact]
    public void AProgramThatCannotBeStartedHasTheKindOfExecvesErrno()
    {
        var notExecutable = Path.Join(_directory, "not-executable");
        File.WriteAllText(notExecutable, "#!/bin/sh\n");
        var error = Assert.Throws<Win32Exception>(() => Process.Start(notExecutable));
        Assert.Equal(Errno.EACCES, error.NativeErrorCode);
        Assert.Equal(ErrorKind.PermissionDenied, ErrorKinds.Of(error));
        Assert.Equal(ErrorKind.NotFound, ErrorKinds.Of(Assert.Throws<Win32Exception>(() => Process.Start(Path.Join(_directory, "missing")))));
    }

    [Fact]
    public void ARefusedConnectionIsUnavailable()
    {
        // A port of loopback that was just bound and closed again has no listener.
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var client = new System.Net.Sockets.TcpClient();
        var error = Assert.Throws<System.Net.Sockets.SocketException>(() => client.Connect(System.Net.IPAddress.Loopback, port));
        Assert.Equal(ErrorKind.Unavailable, ErrorKinds.Of(error));
    }

    [Fact]
    public void AFailedSystemCallHasTheKindOfItsErrno()
    {
        var notExecutable = Path.Join(_directory, "not-executable");
        File.WriteAllText(notExecutable, "");
        var refused = Assert.Throws<SyscallException>(() => Spawn.Start(notExecutable, [notExecutable], null, []));
        Assert.Equal(Errno.EACCES, refused.Errno);
        Assert.Equal(ErrorKind.PermissionDenied, ErrorKinds.Of(refused));

        var exists = Assert.Throws<SyscallException>(() => Errno.Check(Libc.Mkdir(_directory, 0x1c0), "mkdir", _directory));
        Assert.Equal(ErrorKind.AlreadyExists, exists.Kind);
    }

    [Fact]
    public void CancellationAndWrappedErrorsKeepTheirKind()
    {
        Assert.Equal(ErrorKind.Canceled, ErrorKinds.Of(new OperationCanceledException()));
        var missing = Assert.Throws<FileNotFoundException>(() => File.ReadAllText(Path.Join(_directory, "missing")));
        Assert.Equal(ErrorKind.NotFound, ErrorKinds.Of(new AggregateException(missing)));
        Assert.Equal(ErrorKind.Internal, ErrorKinds.Of(new InvalidOperationException("a bug")));
    }
}
