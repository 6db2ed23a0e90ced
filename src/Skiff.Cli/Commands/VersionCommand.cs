using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Skiff.Engine;

namespace Skiff.Cli.Commands;

/// <summary>
/// `skiff version` in docker's shape: a Client and a Server section (the engine, which runs in this same process),
/// or a --format template over docker's field names (`{{.Client.Version}}`, `{{.Server.KernelVersion}}`, `{{json .}}`).
/// </summary>
internal static class VersionCommand
{
    public static readonly CliCommand Definition = new(
        "version", "", "Show the version of skiff and of its engine.",
        [new("format", 'f', TakesValue: true, Help: "json, or a template such as '{{.Server.Version}}'"), CliCommand.Help],
        Run);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var engine = SystemService.Version();
        var version = new VersionDocument(
            new ClientVersion(new PlatformName("skiff"), Program.Version, RuntimeInformation.FrameworkDescription, engine.Os, engine.Arch),
            new ServerVersion(new PlatformName("Skiff Engine"),
                [new VersionComponent("Engine", engine.Version, new Dictionary<string, string> { ["Os"] = engine.Os, ["Arch"] = engine.Arch, ["KernelVersion"] = engine.KernelVersion })],
                engine.Version, engine.Os, engine.Arch, engine.KernelVersion));
        if (Output.ParseDocumentFormat(args.Value("format")) is { } format)
        {
            context.Out.WriteLine(format.Execute(JsonSerializer.SerializeToElement(version, VersionJsonContext.Default.VersionDocument)));
            return 0;
        }
        var text = context.Out;
        text.WriteLine("Client:");
        text.WriteLine($" Version:           {version.Client.Version}");
        text.WriteLine($" .NET version:      {version.Client.Runtime}");
        text.WriteLine($" OS/Arch:           {version.Client.Os}/{version.Client.Arch}");
        text.WriteLine();
        text.WriteLine($"Server: {version.Server.Platform.Name}");
        text.WriteLine(" Engine:");
        text.WriteLine($"  Version:          {engine.Version}");
        text.WriteLine($"  OS/Arch:          {engine.Os}/{engine.Arch}");
        text.WriteLine($"  Kernel Version:   {engine.KernelVersion}");
        return 0;
    }
}

internal sealed record PlatformName(string Name);

internal sealed record ClientVersion(PlatformName Platform, string Version, string Runtime, string Os, string Arch);

internal sealed record VersionComponent(string Name, string Version, Dictionary<string, string> Details);

internal sealed record ServerVersion(PlatformName Platform, IReadOnlyList<VersionComponent> Components, string Version, string Os, string Arch, string KernelVersion);

internal sealed record VersionDocument(ClientVersion Client, ServerVersion Server);

[JsonSerializable(typeof(VersionDocument))]
internal sealed partial class VersionJsonContext : JsonSerializerContext;
