using System.Globalization;
using System.Text.Json;
using Skiff.Engine;

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
        var info = context.Engine.System.Info();
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
}
