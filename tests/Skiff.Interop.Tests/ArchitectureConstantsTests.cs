using System.Runtime.InteropServices;
using static Skiff.Interop.Interop;

namespace Skiff.Interop.Tests;

/// <summary>The constants whose values differ between x86-64 and arm64, pinned to the kernel's headers of each.</summary>
public sealed class ArchitectureConstantsTests
{
    [Theory]
    [InlineData(Architecture.X64, 0x10000, 0x20000)] // asm-generic/fcntl.h: 00200000, 00400000
    [InlineData(Architecture.Arm64, 0x4000, 0x8000)] // arch/arm64/include/uapi/asm/fcntl.h: 040000, 0100000
    public void OpenFlagsFollowTheArchitecture(Architecture architecture, int directory, int noFollow)
    {
        Assert.Equal(directory, Libc.DirectoryFlag(architecture));
        Assert.Equal(noFollow, Libc.NoFollowFlag(architecture));
    }

    [Theory]
    [InlineData(Architecture.X64, 321)] // arch/x86/entry/syscalls/syscall_64.tbl
    [InlineData(Architecture.Arm64, 280)] // include/uapi/asm-generic/unistd.h
    public void BpfSyscallNumberFollowsTheArchitecture(Architecture architecture, long number)
        => Assert.Equal(number, Bpf.SyscallNumberOf(architecture));

    [Fact]
    public void ThisProcessUsesItsOwnArchitecturesOpenFlags()
    {
        Assert.Equal(Libc.DirectoryFlag(RuntimeInformation.ProcessArchitecture), Libc.O_DIRECTORY);
        Assert.Equal(Libc.NoFollowFlag(RuntimeInformation.ProcessArchitecture), Libc.O_NOFOLLOW);
    }

    [Fact]
    public void TheKernelHonoursODirectoryAndONoFollow()
    {
        var directory = Directory.CreateTempSubdirectory("skiff-interop-").FullName;
        try
        {
            var file = Path.Join(directory, "file");
            File.WriteAllText(file, "");
            var link = Path.Join(directory, "link");
            File.CreateSymbolicLink(link, file);

            Assert.Equal(-1, Libc.Open(file, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0));
            Assert.Equal(Errno.ENOTDIR, Errno.Last);
            Assert.Equal(-1, Libc.Open(link, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0));
            Assert.Equal(Errno.ELOOP, Errno.Last);
            using var opened = FileDescriptor.Wrap(Libc.Open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0), "open", directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
