using System.Text.Json;
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
            new("format", TakesValue: true, Help: "table (default) or json"),
            CliCommand.Help,
        ],
        Run, MaxPositionals: 1, Aliases: ["image ls", "image list"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        string format = args.Value("format") ?? "table";
        if (format is not ("table" or "json"))
            throw new UsageException($"images: --format must be table or json, not \"{format}\"");
        var images = context.Images.List();
        if (!args.Bool("all"))
        {
            var intermediate = ImageService.IntermediateImages(images);
            images = [.. images.Where(image => !intermediate.Contains(image.Id))];
        }
        if (args.Positionals.Count == 1)
        {
            string wanted = args.Positionals[0];
            images = [.. images.Where(image => image.RepoTags.Any(tag => Matches(Output.Familiar(tag), wanted) || Matches(tag, wanted)))];
        }
        bool noTrunc = args.Bool("no-trunc");
        if (args.Bool("quiet"))
        {
            foreach (string id in images.Select(image => noTrunc ? image.Id : image.ShortId).Distinct())
                context.Out.WriteLine(id);
            return 0;
        }
        if (format == "json")
        {
            WriteJson(context.Out, images);
            return 0;
        }
        bool digests = args.Bool("digests");
        var now = DateTimeOffset.UtcNow;
        var rows = new List<IReadOnlyList<string>>();
        foreach (var image in images)
        {
            string digest = image.RepoDigests.Count > 0 ? image.RepoDigests[0][(image.RepoDigests[0].IndexOf('@') + 1)..] : "<none>";
            var names = image.RepoTags.Count > 0 ? image.RepoTags.Select(Output.Familiar) : ["<none>:<none>"];
            foreach (string name in names)
            {
                var (repository, tag) = name == "<none>:<none>" ? ("<none>", "<none>") : Output.Split(name);
                var row = new List<string> { repository, tag };
                if (digests)
                    row.Add(digest);
                row.AddRange([noTrunc ? image.Id : image.ShortId, Output.Ago(image.Created, now), Output.Size(image.Size)]);
                rows.Add(row);
            }
        }
        string[] header = digests
            ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
            : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"];
        Output.Table(context.Out, header, rows);
        return 0;
    }

    /// <summary>docker's filter argument: a repository (any tag) or repository:tag.</summary>
    private static bool Matches(string name, string wanted)
        => name == wanted || Output.Split(name).Repository == wanted;

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
