using System.Text.Json;
using Skiff.Engine;
using Skiff.Engine.Specs;

namespace Skiff.Api.Tests;

public sealed class ContainerCreateMappingTests
{
    private static CreateContainerRequest Map(string json, string? name = null)
        => ContainerCreateMapping.Request(JsonSerializer.Deserialize(json, ApiJsonContext.Default.ContainerCreateBody)!, name);

    [Fact]
    public void WhatDockerRunSends()
    {
        // docker run --rm --network none -e A=1 -v /data -p 127.0.0.1:8080:80 --name web busybox sh -c 'exit 13' (docker.io 20.10)
        var request = Map("""
            {"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,
             "ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=1"],
             "Cmd":["sh","-c","exit 13"],"Image":"busybox","Volumes":{"/data":{}},"WorkingDir":"","Entrypoint":null,
             "OnBuild":null,"Labels":{},
             "HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"none",
               "PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},
               "AutoRemove":true,"VolumeDriver":"","VolumesFrom":null,"CapAdd":null,"CapDrop":null,"CgroupnsMode":"",
               "Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,
               "OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,
               "UTSMode":"","UsernsMode":"","ShmSize":0,"ConsoleSize":[0,0],"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,
               "CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"CpuPeriod":0,"CpuQuota":0,"CpusetCpus":"","CpusetMems":"",
               "Devices":[],"DeviceCgroupRules":null,"KernelMemory":0,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,
               "OomKillDisable":false,"PidsLimit":null,"Ulimits":null,"MaskedPaths":null,"ReadonlyPaths":null},
             "NetworkingConfig":{"EndpointsConfig":{}}}
            """, "web");
        Assert.Equal("busybox", request.Image);
        Assert.Equal("web", request.Name);
        Assert.Equal(PullPolicy.Never, request.Pull);
        Assert.True(request.AutoRemove);
        Assert.False(request.Interactive);
        Assert.Null(request.KernelMemory);
        var options = request.Options;
        Assert.Equal(["sh", "-c", "exit 13"], options.Command);
        Assert.Null(options.Entrypoint);
        Assert.Equal(["A=1"], options.Env);
        Assert.Equal(["none"], options.Networks);
        Assert.Equal(["127.0.0.1:8080:80/tcp"], options.Publish);
        Assert.Equal(["80/tcp"], options.Expose);
        Assert.Equal(AttachStreams.Stdout | AttachStreams.Stderr, options.Attach);
        var volume = Assert.Single(options.Mounts);
        Assert.Equal((MountKind.Volume, null, "/data"), (volume.Kind, volume.Source, volume.Target));
        Assert.Null(options.Memory);
        Assert.Null(options.PidsLimit);
        Assert.Null(options.Hostname);
    }

    [Fact]
    public void LimitsBindsAndPolicies()
    {
        var request = Map("""
            {"Image":"busybox","Entrypoint":["/bin/sh","-c"],"Cmd":["echo hi"],"OpenStdin":true,"Tty":true,
             "HostConfig":{"Binds":["/tmp:/host:ro"],"Memory":67108864,"NanoCpus":1500000000,"PidsLimit":64,
               "RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"Tmpfs":{"/run":"size=1m"},
               "Ulimits":[{"Name":"nofile","Soft":1024,"Hard":2048}],"NetworkMode":"default",
               "Mounts":[{"Type":"tmpfs","Target":"/scratch"}],"LogConfig":{"Type":"json-file","Config":{"max-size":"1m"}}}}
            """);
        var options = request.Options;
        Assert.Equal("/bin/sh", options.Entrypoint);
        Assert.Equal(["-c", "echo hi"], options.Command);
        Assert.True(request.Interactive);
        Assert.True(options.Tty);
        Assert.Equal(64L * 1024 * 1024, options.Memory);
        Assert.Equal(1.5m, options.Cpus);
        Assert.Equal(64, options.PidsLimit);
        Assert.Equal(("on-failure", 3), (request.RestartPolicy.Name, request.RestartPolicy.MaximumRetryCount));
        Assert.Empty(options.Networks);
        Assert.Equal(["/host", "/scratch", "/run"], options.Mounts.Select(m => m.Target));
        Assert.True(options.Mounts.Single(m => m.Target == "/host").ReadOnly);
        Assert.Equal("RLIMIT_NOFILE", Assert.Single(options.Ulimits).Name);
    }

    [Fact]
    public void AnEmptyEntrypointClearsTheImages()
    {
        var request = Map("""{"Image":"busybox","Entrypoint":[],"Cmd":["true"]}""");
        Assert.Equal("", request.Options.Entrypoint);
        Assert.Equal(["true"], request.Options.Command);
    }

    [Fact]
    public void AMissingImageIsABadRequest()
    {
        var error = Assert.Throws<EngineException>(() => Map("""{"Cmd":["true"]}"""));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void ABadBindIsTheEnginesInvalidArgument()
    {
        var error = Assert.ThrowsAny<SkiffException>(() => Map("""{"Image":"busybox","HostConfig":{"Binds":["relative:dir:zz"]}}"""));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
    }
}
