using System.Text.Json;
using Skiff.Engine;

namespace Skiff.Cli.Commands;

internal static class InspectCommand
{
    // Before the commands that use it: static fields are initialized in order.
    internal static readonly Flag FormatFlag = new("format", 'f', TakesValue: true, Help: "json, or a Go template such as '{{.Config.Labels}}'");

    public static readonly CliCommand Definition = new(
        "image inspect", "IMAGE [IMAGE...]", "Show images' details as JSON, in docker's shape.",
        [FormatFlag, CliCommand.Help],
        (context, args) => Print(context, args, name => JsonSerializer.SerializeToElement(context.Images.Inspect(name), InspectJsonContext.Default.ImageInspect)),
        MinPositionals: 1, MaxPositionals: -1);

    public static readonly CliCommand Any = new(
        "inspect", "NAME [NAME...]", "Show containers, images, volumes or networks as JSON (looked for in that order).",
        [new("type", TakesValue: true, Help: "container, image, volume or network: look only there"), FormatFlag, CliCommand.Help], RunAny, MinPositionals: 1, MaxPositionals: -1);

    /// <summary>docker inspect: one array, each element a container's, an image's or a volume's document.</summary>
    private static int RunAny(CliContext context, ParsedArguments args)
    {
        ObjectType? type = args.Value("type") switch
        {
            null => null,
            "container" => ObjectType.Container,
            "image" => ObjectType.Image,
            "volume" => ObjectType.Volume,
            "network" => ObjectType.Network,
            var other => throw new CliFailure(ErrorKind.InvalidArgument, $"unknown type: \"{other}\": must be one of \"container\", \"image\", \"volume\", \"network\""),
        };
        return Print(context, args, name => context.Engine.System.Inspect(name, type) switch
        {
            { Container: { } container } => JsonSerializer.SerializeToElement(container, InspectJsonContext.Default.ContainerInspect),
            { Image: { } image } => JsonSerializer.SerializeToElement(image, InspectJsonContext.Default.ImageInspect),
            { Volume: { } volume } => JsonSerializer.SerializeToElement(volume, InspectJsonContext.Default.VolumeInspect),
            { Network: { } network } => JsonSerializer.SerializeToElement(network, InspectJsonContext.Default.NetworkInspect),
            _ => throw new InvalidOperationException("an inspect result without its document"),
        }, notFound: type is null ? name => $"Error: No such object: {name}" : null);
    }

    /// <summary>
    /// docker's inspect commands: the documents of the names that were found (`[]` when none was), then a line on
    /// stderr for each that was not, and status 1 if any was not; a template that does not parse is status 64. Without a type, a missing object is said as docker
    /// says it (<paramref name="notFound"/>).
    /// </summary>
    internal static int Print(CliContext context, ParsedArguments args, Func<string, JsonElement> inspect, Func<string, string>? notFound = null)
    {
        var format = Output.ParseDocumentFormat(args.Value("format"));
        var documents = new List<JsonElement>();
        var failures = new List<(string Name, Exception Error)>();
        foreach (var name in args.Positionals)
        {
            try
            {
                documents.Add(inspect(name));
            }
            catch (Exception error) when (ErrorKinds.IsExpected(error))
            {
                failures.Add((name, error));
            }
        }
        Output.Documents(context.Out, format, JsonSerializer.Serialize(documents, InspectJsonContext.Default.ListJsonElement));
        context.Out.Flush();
        int status = 0;
        foreach (var (name, error) in failures)
        {
            if (notFound is not null && ErrorKinds.Of(error) == ErrorKind.NotFound)
            {
                Console.Error.WriteLine(notFound(name));
                status = Program.ExitCode(ErrorKind.NotFound, containerCommand: false, ExitStatuses.Plain);
            }
            else
            {
                status = Program.Report(error);
            }
        }
        return status;
    }
}
