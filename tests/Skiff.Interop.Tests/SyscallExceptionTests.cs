using static Skiff.Interop.Interop;

namespace Skiff.Interop.Tests;

public sealed class SyscallExceptionTests
{
    [Fact]
    public void NamesTheCallItsTargetAndTheKernelsReason()
    {
        var path = $"/nonexistent-{Guid.NewGuid():N}/file";
        var error = Assert.Throws<SyscallException>(() => FileDescriptor.Wrap(Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", path));
        Assert.Equal($"open {path}: No such file or directory", error.Message);
        Assert.Equal("open", error.Syscall);
        Assert.Equal(path, error.Target);
        Assert.Equal(ErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public void PutsTheContextFirstAndLeavesOutAMissingTarget()
    {
        Assert.Equal("overlay mount of a: mount /b: Invalid argument", new SyscallException("mount", "/b", Errno.EINVAL, "overlay mount of a").Message);
        Assert.Equal("pipe2: Too many open files", new SyscallException("pipe2", null, Errno.EMFILE).Message);
    }
}
