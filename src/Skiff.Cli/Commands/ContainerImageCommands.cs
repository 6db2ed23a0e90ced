using Skiff.Engine;
using Skiff.Interop;

namespace Skiff.Cli.Commands;

/// <summary>The commands that read a container's filesystem: <c>diff</c>, <c>commit</c> and <c>export</c>.</summary>
internal static class ContainerImageCommands
{
    public static readonly CliCommand Diff = new(
        "diff", "CONTAINER", "List the files a container added (A), changed (C) and deleted (D) in its rootfs.",
        [CliCommand.Help],
        (context, args) =>
        {
            foreach (var change in context.Engine.Commits.Changes(args.Positionals[0]))
            {
                string line = change.ToString();
                if (!FileNames.HasEscapes(line))
                {
                    context.Out.WriteLine(line);
                    continue;
                }
                // A name that is not UTF-8: its own bytes, as docker prints it, not the text writer's U+FFFD.
                context.Out.Flush();
                using var stdout = Console.OpenStandardOutput();
                stdout.Write([.. FileNames.GetBytes(line), (byte)'\n']);
            }
            return 0;
        },
        MinPositionals: 1, MaxPositionals: 1, Aliases: ["container diff"]);

    public static readonly CliCommand Commit = new(
        "commit", "CONTAINER [REPOSITORY[:TAG]]", "Make a new image from a container's changes; prints its ID.",
        [
            new("author", 'a', TakesValue: true, Help: "author of the image (e.g. \"Jane Doe <jane@example.com>\")"),
            new("message", 'm', TakesValue: true, Help: "comment of the image's history entry"),
            new("change", 'c', TakesValue: true, Repeatable: true, Help: "Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)"),
            new("pause", 'p', Help: "pause a running container while its changes are read (default true; --pause=false to not)"),
            CliCommand.Help,
        ],
        RunCommit, MinPositionals: 1, MaxPositionals: 2, Aliases: ["container commit"]);

    public static readonly CliCommand Export = new(
        "export", "CONTAINER", "Write a container's whole filesystem (without its volumes) as a tar archive.",
        [new("output", 'o', TakesValue: true, Help: "write to this file instead of standard output"), CliCommand.Help],
        (context, args) =>
        {
            ArchiveOutput.Write("export", args.Value("output"), output => context.Engine.ContainerFiles.Export(args.Positionals[0], output));
            return 0;
        },
        MinPositionals: 1, MaxPositionals: 1, Aliases: ["container export"]);

    private static int RunCommit(CliContext context, ParsedArguments args)
    {
        var image = context.Engine.Commits.Commit(new ContainerCommitRequest
        {
            Container = args.Positionals[0],
            Names = args.Positionals.Count > 1 ? [args.Positionals[1]] : [],
            Changes = args.Values("change"),
            Author = args.Value("author"),
            Comment = args.Value("message"),
            Pause = args.Value("pause") != "false",
        });
        context.Out.WriteLine(image.Id);
        return 0;
    }
}
