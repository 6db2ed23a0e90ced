using System.Text.Json;
using Skiff.Engine;

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
        var documents = new List<JsonElement>();
        foreach (var name in args.Positionals)
        {
            if (type != "image" && TryContainer(context, name) is { } container)
                documents.Add(JsonSerializer.SerializeToElement(container, InspectJsonContext.Default.ContainerInspect));
            else if (type == "container")
                throw new EngineException(ErrorKind.NotFound, $"no such container: {name}");
            else
                documents.Add(JsonSerializer.SerializeToElement(context.Images.Inspect(name), InspectJsonContext.Default.ImageInspect));
        }
        Output.Documents(context.Out, format, JsonSerializer.Serialize(documents, InspectJsonContext.Default.ListJsonElement));
        return 0;
    }

    private static ContainerInspect? TryContainer(CliContext context, string name)
    {
        try
        {
            return context.Engine.ContainerQueries.Inspect(name);
        }
        catch (Exception error) when (ErrorKinds.Of(error) == ErrorKind.NotFound)
        {
            return null;
        }
    }

    private static int Run(CliContext context, ParsedArguments args)
    {
        var format = Output.ParseDocumentFormat(args.Value("format"));
        var images = args.Positionals.Select(context.Images.Inspect).ToList();
        Output.Documents(context.Out, format, JsonSerializer.Serialize(images, InspectJsonContext.Default.ListImageInspect));
        return 0;
    }
}
