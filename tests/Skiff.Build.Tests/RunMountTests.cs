using Skiff.Build.Dockerfile;

namespace Skiff.Build.Tests;

public class RunMountTests
{
    [Fact]
    public void BindDefaultsToReadOnly()
    {
        Assert.Equal(new RunMount(RunMountType.Bind, "/src", "app", "build", true, null, CacheSharing.Shared, 0x1ED, 0, 0, null, false, null),
            RunMount.Parse("target=/src,source=app,from=build"));
        Assert.False(RunMount.Parse("type=bind,dst=/x,rw").ReadOnly);
        Assert.False(RunMount.Parse("type=bind,destination=/x,readwrite=true").ReadOnly);
        Assert.False(RunMount.Parse("type=bind,target=/x,ro=false").ReadOnly);
    }

    [Fact]
    public void Cache()
    {
        Assert.Equal(new RunMount(RunMountType.Cache, "/root/.cache", "sub", "img", false, "pip", CacheSharing.Locked, Convert.ToInt32("700", 8), 1000, 1001, null, false, null),
            RunMount.Parse("type=cache,target=/root/.cache,src=sub,from=img,id=pip,sharing=locked,mode=0700,uid=1000,gid=1001"));
        Assert.Equal(CacheSharing.Private, RunMount.Parse("type=cache,target=/c,sharing=private").Sharing);
        Assert.True(RunMount.Parse("type=cache,target=/c,readonly").ReadOnly);
    }

    [Fact]
    public void TmpfsSecretSsh()
    {
        Assert.Equal(64L * 1024 * 1024, RunMount.Parse("type=tmpfs,target=/t,size=64m").Size);
        Assert.Equal(1536L, RunMount.Parse("type=tmpfs,target=/t,size=1.5KiB").Size);
        Assert.Equal(new RunMount(RunMountType.Secret, "/run/secrets/token", null, null, false, "token", CacheSharing.Shared, 0x100, 0, 0, null, true, null),
            RunMount.Parse("type=secret,id=token,required"));
        var byTarget = RunMount.Parse("type=secret,target=/etc/npmrc,mode=0444");
        Assert.Equal(("npmrc", "/etc/npmrc", Convert.ToInt32("444", 8)), (byTarget.Id, byTarget.Target, byTarget.Mode));
        var byEnv = RunMount.Parse("type=secret,id=tok,env=TOKEN");
        Assert.Equal(("tok", null, "TOKEN"), (byEnv.Id, byEnv.Target, byEnv.Env));
        // BuildKit takes both: the variable and the file.
        var both = RunMount.Parse("type=secret,id=tok,env=TOKEN,target=/tok,required");
        Assert.Equal(("tok", "/tok", "TOKEN", true), (both.Id, both.Target, both.Env, both.Required));
        Assert.Equal(("TOKEN", "TOKEN"), (RunMount.Parse("type=secret,env=TOKEN").Id, RunMount.Parse("type=secret,env=TOKEN").Env));
        var ssh = RunMount.Parse("type=ssh,required=true");
        Assert.Equal((RunMountType.Ssh, "default", 0x180, true), (ssh.Type, ssh.Id, ssh.Mode, ssh.Required));
    }

    [Fact]
    public void ValuesAreExpandedAndQuotedFieldsKeepCommas()
    {
        var mount = RunMount.Parse("type=cache,\"target=/a,b\",id=$ID", value => value.Replace("$ID", "expanded"));
        Assert.Equal(("/a,b", "expanded"), (mount.Target, mount.Id));
    }

    [Theory]
    [InlineData("type=volume,target=/x", "RUN --mount=type=volume,target=/x: the mount type \"volume\" is not one of bind, cache, tmpfs, secret, ssh")]
    [InlineData("type=cache", "RUN --mount=type=cache: a cache mount needs a target: add target=PATH")]
    [InlineData("source=x", "RUN --mount=source=x: a bind mount needs a target: add target=PATH")]
    [InlineData("target=/x,color=red", "RUN --mount=target=/x,color=red: \"color\" is not a mount option: use type, target, source, from, ro, rw, id, sharing, mode, uid, gid, size, required or env")]
    [InlineData("target=/x,bogus", "RUN --mount=target=/x,bogus: \"bogus\" needs a value: write bogus=VALUE")]
    [InlineData("type=cache,target=/x,sharing=all", "RUN --mount=type=cache,target=/x,sharing=all: sharing=\"all\" is not one of shared, private, locked")]
    [InlineData("type=cache,target=/x,mode=rwx", "RUN --mount=type=cache,target=/x,mode=rwx: mode=\"rwx\" is not an octal file mode such as 0755")]
    [InlineData("type=cache,target=/x,mode=77777", "RUN --mount=type=cache,target=/x,mode=77777: mode=\"77777\" is not an octal file mode such as 0755")]
    [InlineData("type=cache,target=/x,mode=", "RUN --mount=type=cache,target=/x,mode=: mode=\"\" is not an octal file mode such as 0755")]
    [InlineData("type=cache,target=/x,mode=-1", "RUN --mount=type=cache,target=/x,mode=-1: mode=\"-1\" is not an octal file mode such as 0755")]
    [InlineData("type=cache,target=/x,mode=0x7", "RUN --mount=type=cache,target=/x,mode=0x7: mode=\"0x7\" is not an octal file mode such as 0755")]
    [InlineData("type=cache,target=/x,uid=-1", "RUN --mount=type=cache,target=/x,uid=-1: uid=\"-1\" is not a numeric id")]
    [InlineData("type=tmpfs,target=/x,size=lots", "RUN --mount=type=tmpfs,target=/x,size=lots: size=\"lots\" is not a size such as 64m")]
    [InlineData("type=tmpfs,target=/x,from=a", "RUN --mount=type=tmpfs,target=/x,from=a: from is not an option of a tmpfs mount")]
    [InlineData("type=bind,target=/x,size=1m", "RUN --mount=type=bind,target=/x,size=1m: size is not an option of a bind mount")]
    [InlineData("type=secret", "RUN --mount=type=secret: a secret mount needs an id or a target: write type=secret,id=NAME")]
    [InlineData("target=/x,ro=maybe", "RUN --mount=target=/x,ro=maybe: ro=\"maybe\" takes true or false")]
    [InlineData("\"target=/x", "RUN --mount=\"target=/x: a quoted field is not closed: add the closing \"")]
    public void Errors(string value, string message)
        => Assert.Equal(message, Assert.Throws<BuildException>(() => RunMount.Parse(value)).Message);
}
