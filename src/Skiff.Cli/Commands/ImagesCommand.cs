using System.Text.Json;
using Skiff.Cli.Templates;
using Skiff.Engine;
using Skiff.Images.Service;

namespace Skiff.Cli.Commands;

internal static class ImagesCommand
{
    public static readonly CliCommand Definition = new(
        "images", "[REPOSITORY[:TAG]]", "List local images.",
        [
            new("all", 'a', Help: "also intermediate images (untagged images other images were made from); dangling ones are always listed"),
            new("quiet", 'q', Help: "print only image IDs"),
            new("digests", Help: "show digests"),
            new("no-trunc", Help: "full image IDs"),
            new("filter", 'f', TakesValue: true, Repeatable: true, Help: "dangling=true|false, label=KEY[=VALUE], before=IMAGE, since=IMAGE, until=TIME, reference=GLOB"),
            new("format", TakesValue: true, Help: "table (default), json, or a Go template such as '{{.Repository}}:{{.Tag}}'"),
            CliCommand.Help,
        ],
        Run, MaxPositionals: 1, Aliases: ["image ls", "image list"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        bool digests = args.Bool("digests");
        // null: podman's JSON array
        var format = args.Value("format") is "json" ? null : Output.ParseRows(args.Value("format") ?? "table", digests ? DigestsTable : DefaultTable);
        // As docker's client: `images NAME` is the filter reference=NAME.
        var filters = args.Positionals.Count > 0 ? [.. args.Values("filter"), "reference=" + args.Positionals[0]] : args.Values("filter");
        var images = context.Images.List(args.Bool("all"), filters);
        bool noTrunc = args.Bool("no-trunc");
        if (args.Bool("quiet"))
        {
            foreach (string id in images.Select(image => noTrunc ? image.Id : image.ShortId).Distinct())
                context.Out.WriteLine(id);
            return 0;
        }
        if (format is null)
        {
            WriteJson(context.Out, images);
            return 0;
        }
        var now = DateTimeOffset.UtcNow;
        var rows = new List<TemplateRow>();
        foreach (var image in images)
        {
            string digest = image.RepoDigests.Count > 0 ? image.RepoDigests[0][(image.RepoDigests[0].IndexOf('@') + 1)..] : "<none>";
            var names = image.RepoTags.Count > 0 ? image.RepoTags.Select(ImageNames.Familiar) : ["<none>:<none>"];
            foreach (string name in names)
            {
                var (repository, tag) = name == "<none>:<none>" ? ("<none>", "<none>") : ImageNames.Split(name);
                rows.Add(new TemplateRow(RowType, new Dictionary<string, object?>
                {
                    ["ID"] = noTrunc ? image.Id : image.ShortId,
                    ["Repository"] = repository,
                    ["Tag"] = tag,
                    ["Digest"] = digest,
                    ["CreatedSince"] = Output.Ago(image.Created, now),
                    ["CreatedAt"] = Output.GoTime(image.Created),
                    ["Size"] = Output.Size(image.Size),
                    ["Containers"] = "N/A",
                    ["VirtualSize"] = Output.Size(image.Size),
                    ["SharedSize"] = "N/A",
                    ["UniqueSize"] = "N/A",
                }));
            }
        }
        Output.Rows(context.Out, format, Header, rows);
        return 0;
    }

    private const string RowType = "*formatter.imageContext";
    private const string DefaultTable = "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}";
    private const string DigestsTable = "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}";

    /// <summary>The column titles of docker's image formatter.</summary>
    private static readonly TemplateRow Header = new(RowType, new Dictionary<string, object?>
    {
        ["ID"] = "IMAGE ID", ["Repository"] = "REPOSITORY", ["Tag"] = "TAG", ["Digest"] = "DIGEST", ["CreatedSince"] = "CREATED",
        ["CreatedAt"] = "CREATED AT", ["Size"] = "SIZE", ["Containers"] = "CONTAINERS", ["VirtualSize"] = "VIRTUAL SIZE",
        ["SharedSize"] = "SHARED SIZE", ["UniqueSize"] = "UNIQUE SIZE",
    });

    /// <summary>podman's `images --format json` shape: an array of objects, full names, unix-seconds Created.</summary>
    private static void WriteJson(TextWriter output, IReadOnlyList<ImageInfo> images)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var image in images)
            {
                json.WriteStartObject();
                json.WriteString("Id", image.Id.Split(':')[1]);
                json.WriteString("Digest", image.RepoDigests.Count > 0 ? image.RepoDigests[0].Split('@')[1] : image.ManifestDigest);
                json.WriteStartArray("RepoTags");
                foreach (string tag in image.RepoTags)
                    json.WriteStringValue(tag);
                json.WriteEndArray();
                json.WriteStartArray("RepoDigests");
                foreach (string digest in image.RepoDigests)
                    json.WriteStringValue(digest);
                json.WriteEndArray();
                json.WriteNumber("Created", image.Created.ToUnixTimeSeconds());
                json.WriteNumber("Size", image.Size);
                json.WriteBoolean("Dangling", image.RepoTags.Count == 0);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
