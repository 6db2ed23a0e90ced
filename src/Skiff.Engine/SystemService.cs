using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Skiff.Cgroups;
using Skiff.Engine.Containers;
using Skiff.Images.Service;
using Skiff.Interop;
using Skiff.Storage.Snapshots;

namespace Skiff.Engine;

/// <summary>
/// `system prune`: containers that are not running, images (dangling, or every unused one with <see cref="AllImages"/>),
/// volumes if asked, that docker's prune <see cref="Filters"/> select (until, label, label!; until does not apply to volumes).
/// </summary>
public sealed record SystemPruneRequest
{
    public bool AllImages { get; init; }
    public bool Volumes { get; init; }
    public IReadOnlyList<string> Filters { get; init; } = [];
}

/// <summary>What a system prune removed, in the order docker removes it; <see cref="Volumes"/> is null when volumes were not asked for.</summary>
public sealed record SystemPruneReport(PruneReport Containers, PruneReport? Volumes, RemovalReport Images)
{
    public long ReclaimedBytes => Containers.ReclaimedBytes + (Volumes?.ReclaimedBytes ?? 0) + Images.ReclaimedBytes;
}

/// <summary>The kinds of object `inspect` looks among, in docker's order (networks come between images and volumes once there are any).</summary>
public enum ObjectType
{
    Container,
    Image,
    Volume,
    Network,
}

/// <summary>One object's docker document: the one of its <see cref="Type"/> is set.</summary>
public sealed record ObjectInspect(ObjectType Type, ContainerInspect? Container = null, ImageInspect? Image = null, VolumeInspect? Volume = null, NetworkInspect? Network = null);

/// <summary>The engine as a whole (`host.System`): docker info's data, the store's disk usage, system prune, and which object a name is.</summary>
public sealed class SystemService(EngineHost host)
{
    /// <summary>
    /// docker inspect: the container <paramref name="nameOrId"/> names, else the image, else the volume, else the network; among one
    /// <paramref name="type"/> only when given. A name that is no image reference is no image, as for docker.
    /// </summary>
    /// <exception cref="EngineException">NotFound: "no such object" when none matches; with a type, that type's own failure.</exception>
    public ObjectInspect Inspect(string nameOrId, ObjectType? type = null)
    {
        foreach (var candidate in Enum.GetValues<ObjectType>().Where(t => type is null || t == type))
        {
            try
            {
                return candidate switch
                {
                    ObjectType.Container => new ObjectInspect(candidate, Container: host.ContainerQueries.Inspect(nameOrId)),
                    ObjectType.Image => new ObjectInspect(candidate, Image: host.Images.Inspect(nameOrId)),
                    ObjectType.Volume => new ObjectInspect(candidate, Volume: host.Volumes.Inspect(nameOrId)),
                    _ => new ObjectInspect(candidate, Network: host.Networks.Inspect(nameOrId)),
                };
            }
            catch (Exception error) when (type is null && ErrorKinds.Of(error) is ErrorKind.NotFound or ErrorKind.InvalidArgument)
            {
                // not of this kind: the next one
            }
        }
        throw new EngineException(ErrorKind.NotFound, $"no such object: {nameOrId}");
    }

    /// <summary>`system df`: the image store's images and blobs and what pruning unused images would free.</summary>
    public DiskUsage DiskUsage() => host.ImageStore.DiskUsage();

    /// <summary>Container prune, then volume prune (if asked), then image prune, as docker does; each records its events.</summary>
    /// <exception cref="EngineException">InvalidArgument for a filter docker refuses, checked before anything is removed.</exception>
    public SystemPruneReport Prune(SystemPruneRequest request)
    {
        // Checked once for all three prunes, so that a bad filter removes nothing.
        if (PruneFilter.Parse(request.Filters, PruneFilter.ContainerKeys, DateTimeOffset.UtcNow).HasUntil && request.Volumes)
            throw new EngineException(ErrorKind.InvalidArgument, "the until filter does not apply to volumes: volumes are pruned by label only");
        var removedContainers = host.Containers.Prune(request.Filters);
        var removedVolumes = request.Volumes ? host.Volumes.Prune(filters: request.Filters) : null;
        var removedImages = host.Images.Prune(request.AllImages, request.Filters);
        return new SystemPruneReport(removedContainers, removedVolumes, removedImages);
    }

    /// <summary>The engine's part of `version` (docker's Server section): its version and the host it runs on, in Go's platform names.</summary>
    public static EngineVersion Version() => new()
    {
        Version = EngineHost.Version,
        Os = Oci.Image.Platform.Host.OS,
        Arch = Oci.Image.Platform.Host.Architecture,
        KernelVersion = SmallFileOrEmpty("/proc/sys/kernel/osrelease").Trim(),
    };

    /// <summary>`system info`: what of docker info's content applies to a daemonless engine, with its field names.</summary>
    public SystemInfo Info()
    {
        var list = host.ContainerQueries.List(all: true);
        int running = list.Count(c => c.State.Status is ContainerStatus.Running or ContainerStatus.Restarting);
        int paused = list.Count(c => c.State.Status == ContainerStatus.Paused);
        var store = host.ImageStore;
        var root = store.Root;
        var cgroups = CgroupSystem.Detect();
        var warnings = new List<string>();
        if (cgroups.Mode == CgroupMode.Hybrid)
            warnings.Add("cgroups are mounted in hybrid mode: containers are limited through the v1 controllers");
        bool entryTypes = Skiff.Interop.Interop.Libc.ReportsEntryTypes(root);
        if (!entryTypes)
            warnings.Add($"the filesystem of {root} does not report d_type: overlay mounts of container roots will misbehave");
        var runtime = host.Options.Runtime;
        var runtimes = new Dictionary<string, RuntimePath> { [Path.GetFileName(runtime)] = new(runtime) };
        if (FindOnPath("runc") is { } runc)
            runtimes.TryAdd("runc", new RuntimePath(runc));
        var security = new List<string> { "name=seccomp,profile=builtin" };
        if (cgroups.Mode == CgroupMode.V2)
            security.Add("name=cgroupns");
        if (SmallFileOrEmpty("/sys/module/apparmor/parameters/enabled").Trim() == "Y")
            security.Insert(0, "name=apparmor");
        if (File.Exists("/sys/fs/selinux/enforce"))
            security.Add("name=selinux");
        return new SystemInfo
        {
            ID = EngineId(root),
            Containers = list.Count,
            ContainersRunning = running,
            ContainersPaused = paused,
            ContainersStopped = list.Count - running - paused,
            Images = store.List().Count,
            Driver = store.Snapshotter is OverlaySnapshotter ? "overlay" : "copy",
            DriverStatus = [["Backing Filesystem", BackingFilesystem(root)], ["Supports d_type", entryTypes ? "true" : "false"]],
            LoggingDriver = "json-file",
            CgroupDriver = "cgroupfs",
            CgroupVersion = cgroups.Mode == CgroupMode.V2 ? "2" : "1",
            CgroupMode = cgroups.Mode.ToString().ToLowerInvariant(),
            NCPU = Environment.ProcessorCount,
            MemTotal = MemoryTotal(),
            KernelVersion = SmallFileOrEmpty("/proc/sys/kernel/osrelease").Trim(),
            OperatingSystem = OsName(),
            OSType = "linux",
            Architecture = RuntimeInformation.OSArchitecture switch
            {
                Architecture.X64 => "x86_64",
                Architecture.Arm64 => "aarch64",
                var other => other.ToString().ToLowerInvariant(),
            },
            Name = Environment.MachineName,
            ServerVersion = EngineHost.Version,
            Runtimes = runtimes,
            DefaultRuntime = Path.GetFileName(runtime),
            SecurityOptions = security,
            DockerRootDir = root,
            Warnings = warnings,
        };
    }

    /// <summary>
    /// docker's daemon ID: made once, then the same for every command on this root (written to a temporary file and
    /// linked into place, so two first commands agree on one).
    /// </summary>
    private static string EngineId(string root)
    {
        var path = Path.Combine(root, "engine-id");
        if (File.Exists(path))
            return File.ReadAllText(path).Trim();
        var temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        File.WriteAllText(temporary, Guid.NewGuid().ToString() + "\n");
        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // another command made it first: theirs is the ID
        }
        finally
        {
            File.Delete(temporary);
        }
        return File.ReadAllText(path).Trim();
    }

    /// <summary>The filesystem type of the mount holding <paramref name="path"/>, with docker's names for the common ones.</summary>
    private static string BackingFilesystem(string path)
    {
        var full = Path.GetFullPath(path);
        var mount = MountInfo.Read()
            .Where(m => full == m.MountPoint || full.StartsWith(m.MountPoint.TrimEnd('/') + "/", StringComparison.Ordinal))
            .MaxBy(m => m.MountPoint.Length);
        return mount?.FileSystemType switch
        {
            "ext2" or "ext3" or "ext4" => "extfs",
            "overlay" => "overlayfs",
            null => "unknown",
            var type => type,
        };
    }

    private static long MemoryTotal()
    {
        var line = SmallFileOrEmpty("/proc/meminfo").Split('\n').FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return line is not null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kilobytes) ? kilobytes * 1024 : 0;
    }

    private static string OsName()
    {
        foreach (var line in SmallFileOrEmpty("/etc/os-release").Split('\n'))
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                return line["PRETTY_NAME=".Length..].Trim('"');
        return "Linux";
    }

    private static string SmallFileOrEmpty(string path)
    {
        try
        {
            return SmallFile.ReadAllText(path);
        }
        catch (Exception e) when (ErrorKinds.IsExpected(e))
        {
            return "";
        }
    }

    private static string? FindOnPath(string program)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program)).FirstOrDefault(File.Exists);
}

/// <summary>docker's Info fields (GET /info) that apply here; CgroupMode says v1, hybrid or v2.</summary>
public sealed record SystemInfo
{
    public required string ID { get; init; }
    public int Containers { get; init; }
    public int ContainersRunning { get; init; }
    public int ContainersPaused { get; init; }
    public int ContainersStopped { get; init; }
    public int Images { get; init; }
    public required string Driver { get; init; }
    public required List<string[]> DriverStatus { get; init; }
    public required string LoggingDriver { get; init; }
    public required string CgroupDriver { get; init; }
    public required string CgroupVersion { get; init; }
    public required string CgroupMode { get; init; }
    public int NCPU { get; init; }
    public long MemTotal { get; init; }
    public required string KernelVersion { get; init; }
    public required string OperatingSystem { get; init; }
    public required string OSType { get; init; }
    public required string Architecture { get; init; }
    public required string Name { get; init; }
    public required string ServerVersion { get; init; }
    public required Dictionary<string, RuntimePath> Runtimes { get; init; }
    public required string DefaultRuntime { get; init; }
    public required List<string> SecurityOptions { get; init; }
    public required string DockerRootDir { get; init; }
    public required List<string> Warnings { get; init; }
}

public sealed record RuntimePath([property: JsonPropertyName("path")] string Path);

/// <summary>docker version's Server fields that a daemonless engine has.</summary>
public sealed record EngineVersion
{
    public required string Version { get; init; }
    public required string Os { get; init; }
    public required string Arch { get; init; }
    public required string KernelVersion { get; init; }
}

[JsonSerializable(typeof(SystemInfo))]
public sealed partial class SystemInfoJsonContext : JsonSerializerContext;
