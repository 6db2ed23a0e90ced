using Skiff.Engine;
using Skiff.Engine.Specs;

namespace Skiff.Engine.Tests;

public class ParsingTests
{
    [Theory]
    [InlineData("1024", 1024L)]
    [InlineData("512k", 512L * 1024)]
    [InlineData("64m", 64L << 20)]
    [InlineData("64M", 64L << 20)]
    [InlineData("1g", 1L << 30)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("10mb", 10L << 20)]
    [InlineData("100b", 100L)]
    public void ByteSizes_are_binary_multiples(string text, long expected)
        => Assert.Equal(expected, ByteSize.Parse(text, "memory limit"));

    [Theory]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("-1m")]
    [InlineData("12q")]
    [InlineData("99999999999p")]
    public void Bad_sizes_name_what_is_sized(string text)
    {
        var error = Assert.Throws<EngineException>(() => ByteSize.Parse(text, "shared memory size"));
        Assert.Contains("shared memory size", error.Message);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void Volume_flag_forms()
    {
        Assert.Equal(new MountRequest(MountKind.Bind, "/srv/data", "/data", false, []), Normalize(MountRequest.ParseVolume("/srv/data:/data")));
        var readOnly = MountRequest.ParseVolume("/srv/data:/data:ro,rshared");
        Assert.True(readOnly.ReadOnly);
        Assert.Equal(["rshared"], readOnly.Options);
        var named = MountRequest.ParseVolume("cache:/var/cache:z");
        Assert.Equal((MountKind.Volume, "cache", "/var/cache"), (named.Kind, named.Source, named.Target));
        var anonymous = MountRequest.ParseVolume("/scratch/");
        Assert.Equal((MountKind.Volume, (string?)null, "/scratch"), (anonymous.Kind, anonymous.Source, anonymous.Target));
    }

    [Theory]
    [InlineData("relative:data")]
    [InlineData("/a:/b:/c:/d")]
    [InlineData("/a:/b:bogus")]
    [InlineData("./here:/data")]
    [InlineData("bad/name:/data")]
    [InlineData("-vol:/data")]
    [InlineData("/a:/b/../../etc")]
    [InlineData("/a:")]
    public void Bad_volume_flags_are_rejected(string spec)
    {
        var error = Assert.Throws<EngineException>(() => MountRequest.ParseVolume(spec));
        Assert.StartsWith($"invalid volume mount \"{spec}\"", error.Message);
    }

    [Fact]
    public void Mount_flag_forms()
    {
        var bind = MountRequest.ParseMount("type=bind,source=/srv,target=/srv,readonly,bind-propagation=rslave");
        Assert.Equal((MountKind.Bind, "/srv", "/srv", true), (bind.Kind, bind.Source, bind.Target, bind.ReadOnly));
        Assert.Equal(["rslave"], bind.Options);
        var tmpfs = MountRequest.ParseMount("type=tmpfs,dst=/run,tmpfs-size=64m,tmpfs-mode=700");
        Assert.Equal(["size=67108864", "mode=700"], tmpfs.Options);
        var volume = MountRequest.ParseMount("src=data,dst=/data");
        Assert.Equal((MountKind.Volume, "data"), (volume.Kind, volume.Source));
    }

    [Theory]
    [InlineData("type=bind,target=/x")]
    [InlineData("type=bind,source=rel,target=/x")]
    [InlineData("type=nfs,target=/x")]
    [InlineData("type=tmpfs,source=x,target=/x")]
    [InlineData("source=/x")]
    [InlineData("type=bind,source=/x,target=/x,color=red")]
    [InlineData("type=tmpfs,target=/x,tmpfs-mode=999")]
    public void Bad_mount_flags_are_rejected(string spec)
        => Assert.Throws<EngineException>(() => MountRequest.ParseMount(spec));

    [Fact]
    public void Tmpfs_flag_takes_mount_options()
    {
        var tmpfs = MountRequest.ParseTmpfs("/run:rw,size=1m,mode=755,noexec");
        Assert.Equal("/run", tmpfs.Target);
        Assert.Equal(["size=1048576", "mode=755", "noexec"], tmpfs.Options);
        Assert.Throws<EngineException>(() => MountRequest.ParseTmpfs("/run:uid=oops"));
        Assert.Throws<EngineException>(() => MountRequest.ParseTmpfs("run"));
    }

    [Fact]
    public void Device_flag_forms()
    {
        Assert.Equal(new DeviceRequest("/dev/fuse", "/dev/fuse", "rwm"), DeviceRequest.Parse("/dev/fuse"));
        Assert.Equal(new DeviceRequest("/dev/fuse", "/dev/fuse", "r"), DeviceRequest.Parse("/dev/fuse:r"));
        Assert.Equal(new DeviceRequest("/dev/sda", "/dev/xvda", "rw"), DeviceRequest.Parse("/dev/sda:/dev/xvda:rw"));
        Assert.Throws<EngineException>(() => DeviceRequest.Parse("fuse"));
        Assert.Throws<EngineException>(() => DeviceRequest.Parse("/dev/fuse:/dev/fuse:rwx"));
        Assert.Throws<EngineException>(() => DeviceRequest.Parse("/dev/fuse:dev/fuse"));
    }

    [Fact]
    public void Ulimit_flag_forms()
    {
        Assert.Equal(new UlimitRequest("RLIMIT_NOFILE", 1024, 2048), UlimitRequest.Parse("nofile=1024:2048"));
        Assert.Equal(new UlimitRequest("RLIMIT_NPROC", 50, 50), UlimitRequest.Parse("nproc=50"));
        Assert.Equal(new UlimitRequest("RLIMIT_CORE", ulong.MaxValue, ulong.MaxValue), UlimitRequest.Parse("core=-1"));
        Assert.Throws<EngineException>(() => UlimitRequest.Parse("nofile=2048:1024"));
        Assert.Throws<EngineException>(() => UlimitRequest.Parse("files=1"));
        Assert.Throws<EngineException>(() => UlimitRequest.Parse("nofile"));
        Assert.Throws<EngineException>(() => UlimitRequest.Parse("nofile=many"));
    }

    private static MountRequest Normalize(MountRequest request) => request with { Options = [] };
}
