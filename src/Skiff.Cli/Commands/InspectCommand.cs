using System.Text.Json;
using Skiff.Images.Service;
using Skiff.Oci.Image;
using Skiff.Storage.Snapshots;

namespace Skiff.Cli.Commands;

internal static class InspectCommand
{
    // Before the commands that use it: static fields are initialized in order.
    private static readonly Flag FormatFlag = new("format", 'f', TakesValue: true, Help: "json, or a Go template such as '{{.Config.Labels}}'");

    public static readonly CliCommand Definition = new(
        "image inspect", "IMAGE [IMAGE...]", "Show images' details as JSON, in docker's shape.",
        [FormatFlag, CliCommand.Help], Run, MinPositionals: 1, MaxPositionals: -1);

    public static readonly CliCommand Any = new(
        "inspect", "NAME [NAME...]", "Show containers or images as JSON (a container when one has the name or ID, else an image).",
        [new("type", TakesValue: true, Help: "container or image: look only there"), FormatFlag, CliCommand.Help], RunAny, MinPositionals: 1, MaxPositionals: -1);

    /// <summary>docker inspect: one array, each element a container's or an image's document.</summary>
    private static int RunAny(CliContext context, ParsedArguments args)
    {
        string? type = args.Value("type");
        if (type is not (null or "container" or "image"))
            throw new UsageException($"inspect: --type takes container or image, not \"{type}\"");
        var format = Output.ParseDocumentFormat(args.Value("format"));
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var name in args.Positionals)
            {
                if (type != "image" && TryContainer(context, name) is { } container)
                {
                    var document = JsonSerializer.SerializeToUtf8Bytes([container], Engine.InspectJsonContext.Default.ListContainerInspect);
                    using var parsed = JsonDocument.Parse(document);
                    parsed.RootElement[0].WriteTo(json);
                }
                else if (type == "container")
                {
                    throw new Engine.EngineException($"no such container: {name}");
                }
                else
                {
                    var image = context.Images.Resolve(name);
                    Write(json, image, context.Images.Config(image), context.Images.Snapshotter);
                }
            }
            json.WriteEndArray();
        }
        Output.Documents(context.Out, format, System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        return 0;
    }

    private static Engine.ContainerInspect? TryContainer(CliContext context, string name)
    {
        try
        {
            return context.Engine.ContainerQueries.Inspect(name);
        }
        catch (Engine.EngineException)
        {
            return null;
        }
    }

    private static int Run(CliContext context, ParsedArguments args)
    {
        var format = Output.ParseDocumentFormat(args.Value("format"));
        var images = args.Positionals.Select(name => context.Images.Resolve(name)).ToList();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var image in images)
                Write(json, image, context.Images.Config(image), context.Images.Snapshotter);
            json.WriteEndArray();
        }
        Output.Documents(context.Out, format, System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        return 0;
    }

    /// <summary>The fields of docker's ImageInspect that skiff knows, with docker's names and types.</summary>
    private static void Write(Utf8JsonWriter json, ImageInfo image, ImageConfig config, ISnapshotter snapshotter)
    {
        json.WriteStartObject();
        json.WriteString("Id", image.Id);
        WriteStrings(json, "RepoTags", image.RepoTags.Select(Output.Familiar));
        WriteStrings(json, "RepoDigests", image.RepoDigests.Select(Output.Familiar));
        json.WriteString("Parent", image.Parent ?? "");
        json.WriteString("Comment", config.History?.LastOrDefault()?.Comment ?? "");
        json.WriteString("Created", UtcTime(config.Created ?? image.Created));
        json.WriteString("Author", config.Author ?? "");
        json.WriteString("Architecture", config.Architecture);
        if (config.Variant is not null)
            json.WriteString("Variant", config.Variant);
        json.WriteString("Os", config.OS);
        json.WriteNumber("Size", image.Size);
        json.WritePropertyName("Config");
        WriteConfig(json, config.Config);
        WriteGraphDriver(json, image, snapshotter);
        json.WriteStartObject("RootFS");
        json.WriteString("Type", config.RootFs.Type);
        WriteStrings(json, "Layers", config.RootFs.DiffIds);
        json.WriteEndObject();
        json.WriteStartObject("Metadata");
        // Go's zero time when the image was never named here (pulled, loaded), as docker prints it.
        json.WriteString("LastTagTime", image.LastTagTime is { } tagged ? UtcTime(tagged) : "0001-01-01T00:00:00Z");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string UtcTime(DateTimeOffset time)
        => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Where the layers are unpacked, in the shape of docker's overlay2 data: the top layer as UpperDir, the ones
    /// below as LowerDir (topmost first, ':'-separated, absent for one layer). An image has no merged or work dir
    /// in skiff (only a container's snapshot has them), so those keys are left out.
    /// </summary>
    private static void WriteGraphDriver(Utf8JsonWriter json, ImageInfo image, ISnapshotter snapshotter)
    {
        json.WriteStartObject("GraphDriver");
        json.WriteString("Name", snapshotter is OverlaySnapshotter ? "overlay" : "copy");
        json.WriteStartObject("Data");
        var layers = image.ChainIds.Select(snapshotter.LayerPath).Reverse().ToList();
        if (layers.Count > 1)
            json.WriteString("LowerDir", string.Join(':', layers.Skip(1)));
        if (layers.Count > 0)
            json.WriteString("UpperDir", layers[0]);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteConfig(Utf8JsonWriter json, ImageExecutionConfig? config)
    {
        json.WriteStartObject();
        json.WriteString("User", config?.User ?? "");
        WriteSet(json, "ExposedPorts", config?.ExposedPorts?.Keys);
        WriteStrings(json, "Env", config?.Env);
        WriteStrings(json, "Cmd", config?.Cmd);
        WriteStrings(json, "Entrypoint", config?.Entrypoint);
        WriteSet(json, "Volumes", config?.Volumes?.Keys);
        json.WriteString("WorkingDir", config?.WorkingDir ?? "");
        json.WriteStartObject("Labels");
        foreach (var (key, value) in config?.Labels ?? [])
            json.WriteString(key, value);
        json.WriteEndObject();
        if (config?.StopSignal is { } signal)
            json.WriteString("StopSignal", signal);
        json.WriteEndObject();
    }

    /// <summary>docker writes absent lists as null, present ones as arrays.</summary>
    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string>? values)
    {
        if (values is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartArray(name);
        foreach (string value in values)
            json.WriteStringValue(value);
        json.WriteEndArray();
    }

    /// <summary>docker's sets (ports, volumes): an object whose keys are the members and values are empty objects.</summary>
    private static void WriteSet(Utf8JsonWriter json, string name, IEnumerable<string>? keys)
    {
        if (keys is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartObject(name);
        foreach (string key in keys)
        {
            json.WriteStartObject(key);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }
}
