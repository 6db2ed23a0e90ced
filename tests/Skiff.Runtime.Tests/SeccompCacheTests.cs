using Skiff.Oci;
using Skiff.Runtime.Plan;
using Skiff.Seccomp;

namespace Skiff.Runtime.Tests;

public sealed class SeccompCacheTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-seccomp-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static LinuxSeccomp Profile(string action) => new()
    {
        DefaultAction = SeccompNames.ActAllow,
        Syscalls = [new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = action, ErrnoRet = 1 }],
    };

    [Fact]
    public void A_profile_is_compiled_once_and_read_back_identical()
    {
        var cache = new SeccompCache(_directory);
        var compiled = cache.GetOrCompile(Profile(SeccompNames.ActErrno));
        var file = Assert.Single(Directory.GetFiles(_directory));
        var written = File.GetLastWriteTimeUtc(file);

        var cached = new SeccompCache(_directory).GetOrCompile(Profile(SeccompNames.ActErrno));
        Assert.Equal(compiled.Flags, cached.Flags);
        Assert.Equal(compiled.Instructions, cached.Instructions);
        Assert.Equal(SeccompCompiler.Compile(Profile(SeccompNames.ActErrno)).Instructions, cached.Instructions);
        Assert.Equal(written, File.GetLastWriteTimeUtc(file));
    }

    [Fact]
    public void Different_profiles_get_different_entries()
    {
        var cache = new SeccompCache(_directory);
        var errno = cache.GetOrCompile(Profile(SeccompNames.ActErrno));
        var log = cache.GetOrCompile(Profile(SeccompNames.ActLog));
        Assert.NotEqual(errno.Instructions, log.Instructions);
        Assert.Equal(2, Directory.GetFiles(_directory).Length);
    }

    [Fact]
    public void A_damaged_entry_is_compiled_again()
    {
        var cache = new SeccompCache(_directory);
        var compiled = cache.GetOrCompile(Profile(SeccompNames.ActErrno));
        var file = Assert.Single(Directory.GetFiles(_directory));
        var bytes = File.ReadAllBytes(file);
        bytes[12] ^= 0xff; // an instruction changes; the checksum no longer matches
        File.WriteAllBytes(file, bytes);
        Assert.Equal(compiled.Instructions, cache.GetOrCompile(Profile(SeccompNames.ActErrno)).Instructions);
        File.WriteAllBytes(file, bytes[..20]);
        Assert.Equal(compiled.Instructions, cache.GetOrCompile(Profile(SeccompNames.ActErrno)).Instructions);
        Assert.Equal(compiled.Instructions, new SeccompCache(_directory).GetOrCompile(Profile(SeccompNames.ActErrno)).Instructions);
    }
}
