using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Skiff.Cgroups;
using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Interop;
using Skiff.Storage.Snapshots;

namespace Skiff.Cli.Commands;

/// <summary>`skiff system info` (`skiff info`): what of docker info's content applies to a daemonless engine, with its field names.</summary>
internal static class SystemInfoCommand
{
    public static readonly CliCommand Definition = new(
        "system info", "", "Show the engine's configuration and the host it runs on.",
        [new("format", 'f', TakesValue: true, Help: "json, or a template such as '{{.CgroupVersion}}'"), CliCommand.Help],
        Run, Aliases: ["info"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var format = args.Value("format") is { } f ? Output.ParseTemplate(f == "json" ? "{{json .}}" : f) : null;
        var info = Gather(context);
        if (format is not null)
        {
            context.Out.WriteLine(format.Execute(JsonSerializer.SerializeToElement(info, SystemInfoJsonContext.Default.SystemInfo)));
            return 0;
        }
        var text = context.Out;
        text.WriteLine("Server:");
        text.WriteLine($" Containers: {info.Containers}");
        text.WriteLine($"  Running: {info.ContainersRunning}");
        text.WriteLine($"  Paused: {info.ContainersPaused}");
        text.WriteLine($"  Stopped: {info.ContainersStopped}");
        text.WriteLine($" Images: {info.Images}");
        text.WriteLine($" Server Version: {info.ServerVersion}");
        text.WriteLine($" Storage Driver: {info.Driver}");
        foreach (var pair in info.DriverStatus)
            text.WriteLine($"  {pair[0]}: {pair[1]}");
        text.WriteLine($" Logging Driver: {info.LoggingDriver}");
        text.WriteLine($" Cgroup Driver: {info.CgroupDriver}");
        text.WriteLine($" Cgroup Version: {info.CgroupVersion}{(info.CgroupMode == "hybrid" ? " (hybrid: v1 controllers, with a cgroup2 hierarchy mounted too)" : "")}");
        text.WriteLine($" Runtimes: {string.Join(' ', info.Runtimes.Keys.Order(StringComparer.Ordinal))}");
        text.WriteLine($" Default Runtime: {info.DefaultRuntime}");
        text.WriteLine(" Security Options:");
        foreach (var option in info.SecurityOptions)
        {
            var fields = option.Split(',').Select(field => field.Split('=', 2)).ToList();
            text.WriteLine($"  {fields[0][1]}");
            foreach (var field in fields.Skip(1))
                text.WriteLine($"   {CultureInfo.InvariantCulture.TextInfo.ToTitleCase(field[0])}: {field[1]}");
        }
        text.WriteLine($" Kernel Version: {info.KernelVersion}");
        text.WriteLine($" Operating System: {info.OperatingSystem}");
        text.WriteLine($" OSType: {info.OSType}");
        text.WriteLine($" Architecture: {info.Architecture}");
        text.WriteLine($" CPUs: {info.NCPU}");
        text.WriteLine($" Total Memory: {Output.BinarySize(info.MemTotal)}");
        text.WriteLine($" Name: {info.Name}");
        text.WriteLine($" ID: {info.ID}");
        text.WriteLine($" Skiff Root Dir: {info.DockerRootDir}");
        foreach (var warning in info.Warnings)
            text.WriteLine($"WARNING: {warning}");
        return 0;
    }

    private static SystemInfo Gather(CliContext context)
    {
        var containers = context.Engine.ContainerQueries.List(all: true);
        int running = containers.Count(c => c.State.Status is ContainerStatus.Running or ContainerStatus.Restarting);
        int paused = containers.Count(c => c.State.Status == ContainerStatus.Paused);
        var root = context.Images.Root;
        var cgroups = CgroupSystem.Detect();
        var warnings = new List<string>();
        if (cgroups.Mode == CgroupMode.Hybrid)
            warnings.Add("cgroups are mounted in hybrid mode: containers are limited through the v1 controllers");
        bool entryTypes = Skiff.Interop.Interop.Libc.ReportsEntryTypes(root);
        if (!entryTypes)
            warnings.Add($"the filesystem of {root} does not report d_type: overlay mounts of container roots will misbehave");
        var runtime = EngineOptions.DefaultRuntime();
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
            Containers = containers.Count,
            ContainersRunning = running,
            ContainersPaused = paused,
            ContainersStopped = containers.Count - running - paused,
            Images = context.Images.List().Count,
            Driver = context.Images.Snapshotter is OverlaySnapshotter ? "overlay" : "copy",
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
            ServerVersion = Program.Version,
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
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
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
        catch (Exception e) when (e is IOException or SyscallException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string? FindOnPath(string program)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program)).FirstOrDefault(File.Exists);
}

/// <summary>docker's Info fields (GET /info) that apply here; CgroupMode says v1, hybrid or v2.</summary>
internal sealed record SystemInfo
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

internal sealed record RuntimePath([property: JsonPropertyName("path")] string Path);

[JsonSerializable(typeof(SystemInfo))]
internal sealed partial class SystemInfoJsonContext : JsonSerializerContext;
