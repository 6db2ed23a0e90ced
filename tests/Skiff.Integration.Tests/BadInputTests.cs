using System.Text.Json.Nodes;
using Skiff.Oci;

namespace Skiff.Integration.Tests;

/// <summary>
/// Bad input: one clear stderr line naming the field or path, a non-zero exit, and nothing left
/// behind (state, cgroups, processes, mounts).
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TestBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    private string ConfigPath => Path.Combine(_bundle.Directory, "config.json");

    /// <summary>create fails with one line containing every <paramref name="expected"/> and leaves nothing.</summary>
    private void CreateFails(string id, Action? prepare, params string[] expected)
    {
        prepare?.Invoke();
        _bundle.AssertFailedCleanly(id, _bundle.CreateAsIs(id), expected);
    }

    private void EditJson(Action<JsonObject> edit)
    {
        var id = _bundle.NewId();
        _bundle.WriteConfig(id);
        var node = JsonNode.Parse(File.ReadAllText(ConfigPath))!.AsObject();
        edit(node);
        File.WriteAllText(ConfigPath, node.ToJsonString());
    }

    [ContainerFact]
    public void MalformedJson()
        => CreateFails(_bundle.NewId(), () => File.WriteAllText(ConfigPath, "{\"ociVersion\": \"1.2.0\", \"process\": {"), "config.json");

    [ContainerFact]
    public void ArgsOfTheWrongType()
        => CreateFails(_bundle.NewId(), () => EditJson(c => c["process"]!["args"] = "sh -c true"), "args");

    [ContainerFact]
    public void UnsupportedOciVersion()
        => CreateFails(_bundle.NewId(), () => EditJson(c => c["ociVersion"] = "2.0.0"), "ociVersion", "2.0.0");

    [ContainerFact]
    public void RelativeMountDestination()
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Mounts!.Add(new Mount { Destination = "relative/dir", Type = "tmpfs", Source = "tmpfs" });
            _bundle.WriteConfig("x");
        }, "relative/dir");

    [ContainerFact]
    public void MissingRootfs()
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Root!.Path = "no-such-rootfs";
            _bundle.WriteConfig("x");
        }, "no-such-rootfs");

    [ContainerFact]
    public void MissingConfigJson()
        => CreateFails(_bundle.NewId(), null, "config.json");

    [ContainerFact]
    public void InvalidIds()
    {
        _bundle.WriteConfig("x");
        foreach (var id in new[] { "../x", "a/b", "" })
        {
                var create = _bundle.CreateAsIs(id);
            Assert.True(create.ExitCode != 0, $"id \"{id}\": {create}");
            Assert.Contains("id", Leftovers.SingleLine(create.Stderr), StringComparison.OrdinalIgnoreCase);
            Assert.Empty(Directory.Exists(_bundle.StateRoot) ? Directory.GetFileSystemEntries(_bundle.StateRoot) : []);
            Assert.False(Directory.Exists(Path.Combine(_bundle.Directory, "x")), "\"../x\" escaped the state root");
        }
    }

    [ContainerFact]
    public void IdAlreadyInUse()
    {
        var id = _bundle.NewId();
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        var second = _bundle.CreateAsIs(id);
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains(id, Leftovers.SingleLine(second.Stderr));
        // The first container is untouched.
        Assert.Contains("\"created\"", _bundle.Runtime("state", id).Stdout);
        Assert.NotEmpty(Leftovers.CgroupDirs(id));
        // (and the leftover checks can see a live container)
        Assert.NotEmpty(Leftovers.ProcessesOf(id));
    }

    [ContainerFact]
    public void NonExistentProgram()
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Process!.Args = ["nope"];
            _bundle.WriteConfig("x");
        }, "exec: \"nope\": executable file not found in $PATH");

    [ContainerFact]
    public void UnknownNamespaceType()
        => CreateFails(_bundle.NewId(), () => EditJson(c => c["linux"]!["namespaces"]!.AsArray().Add(new JsonObject { ["type"] = "bogus" })), "bogus");

    [ContainerFact]
    public void UidMappingsWithoutUserNamespace()
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Linux!.UIDMappings = [new LinuxIDMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
            _bundle.Spec.Linux.GIDMappings = [new LinuxIDMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
            _bundle.WriteConfig("x");
        }, "uidMappings");

    [ContainerFact]
    public void UnknownCapability()
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Process!.Capabilities!.Bounding!.Add("CAP_BOGUS");
            _bundle.WriteConfig("x");
        }, "CAP_BOGUS");

    [ContainerFact]
    public void BindMountWithMissingSource()
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Mounts!.Add(new Mount { Destination = "/mnt", Type = "bind", Source = "/no/such/source", Options = ["bind"] });
            _bundle.WriteConfig("x");
        }, "/no/such/source");

    [ContainerFact]
    public void FailureAfterTheCgroupIsCreatedRollsBack()
        // The rlimit check runs while compiling the plan: after the state dir and the cgroups exist.
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Process!.Rlimits = [new POSIXRlimit { Type = "RLIMIT_NOFILE", Soft = 1048576, Hard = 1048576 }];
            _bundle.WriteConfig("x");
        }, "RLIMIT_NOFILE");

    [ContainerFact]
    public void LimitTheKernelRejectsRollsBackWhileSkiffInitWaitsForItsGo()
        // The cgroups are made and limited on a second thread while skiff-init starts: it must be
        // killed (it waits for a go that never comes) and everything removed.
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Linux!.Resources = new LinuxResources { CPU = new LinuxCPU { Cpus = "1000" } };
            _bundle.WriteConfig("x");
        }, "cpuset.cpus", "1000");

    [ContainerFact]
    public void FailureAfterTheSpawnRollsBack()
        // skiff-init fails at the bind mount (its mount point would be inside a regular file of the rootfs): the
        // container process existed and must be gone.
        => CreateFails(_bundle.NewId(), () =>
        {
            File.WriteAllText(Path.Combine(_bundle.Directory, "file-source"), "");
            _bundle.Spec.Mounts!.Add(new Mount { Destination = "/bin/busybox/x", Type = "bind", Source = Path.Combine(_bundle.Directory, "file-source"), Options = ["bind"] });
            _bundle.WriteConfig("x");
        }, "/bin/busybox/x");

    [ContainerFact]
    public void BindMountOverProcIsRefusedUpFront()
        // runc's rule: /proc takes only a procfs; a directory bound over it would hide the kernel's files.
        => CreateFails(_bundle.NewId(), () =>
        {
            System.IO.Directory.CreateDirectory(Path.Combine(_bundle.Directory, "fake-proc"));
            _bundle.Spec.Mounts!.Add(new Mount { Destination = "/proc", Type = "bind", Source = Path.Combine(_bundle.Directory, "fake-proc"), Options = ["rbind"] });
            _bundle.WriteConfig("x");
        }, "/proc", "not of type proc");

    [ContainerFact]
    public void MountInsideProcIsRefusedUpFront()
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Mounts!.Add(new Mount { Destination = "/proc/sys", Type = "tmpfs", Source = "tmpfs" });
            _bundle.WriteConfig("x");
        }, "/proc/sys", "inside /proc");

    [ContainerFact]
    public void FailureInAHookRollsBack()
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Hooks = new Hooks { CreateContainer = [new Hook { Path = "/bin/false" }] };
            _bundle.WriteConfig("x");
        }, "createContainer");

    [ContainerFact]
    public void TerminalWithoutConsoleSocket()
        => CreateFails(_bundle.NewId(), () =>
        {
            _bundle.Spec.Process!.Terminal = true;
            _bundle.WriteConfig("x");
        }, "console-socket");

    private string StartedContainer(params string[] args)
    {
        var id = _bundle.NewId();
        _bundle.Spec.Process!.Args = [.. args];
        Assert.Equal(0, _bundle.Create(id).ExitCode);
        Assert.Equal(0, _bundle.Runtime("start", id).ExitCode);
        return id;
    }

    [ContainerFact]
    public void UnknownSignalToKill()
    {
        var id = StartedContainer("sleep", "100");
        var kill = _bundle.Runtime("kill", id, "SIGBOGUS");
        Assert.NotEqual(0, kill.ExitCode);
        Assert.Contains("SIGBOGUS", Leftovers.SingleLine(kill.Stderr));
        Assert.Contains("\"running\"", _bundle.Runtime("state", id).Stdout);
    }

    [ContainerFact]
    public void DeleteOfARunningContainerWithoutForce()
    {
        var id = StartedContainer("sleep", "100");
        var delete = _bundle.Runtime("delete", id);
        Assert.NotEqual(0, delete.ExitCode);
        Assert.Contains("running", Leftovers.SingleLine(delete.Stderr));
        Assert.Contains("\"running\"", _bundle.Runtime("state", id).Stdout);
    }

    [ContainerFact]
    public void StartOfARunningContainer()
    {
        var id = StartedContainer("sleep", "100");
        var start = _bundle.Runtime("start", id);
        Assert.NotEqual(0, start.ExitCode);
        Assert.Contains("running", Leftovers.SingleLine(start.Stderr));
    }

    [ContainerFact]
    public void CommandsOnAnUnknownId()
    {
        foreach (var args in new[] { new[] { "state", "no-such-id" }, ["kill", "no-such-id", "KILL"], ["delete", "no-such-id"], ["start", "no-such-id"] })
        {
            var result = _bundle.Runtime(args);
            Assert.True(result.ExitCode != 0, $"{args[0]}: {result}");
            Assert.Contains("no-such-id", Leftovers.SingleLine(result.Stderr));
        }
    }
}
