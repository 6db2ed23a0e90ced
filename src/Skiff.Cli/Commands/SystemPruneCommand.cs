using System.Text;
using Skiff.Engine;

namespace Skiff.Cli.Commands;

/// <summary>`skiff system prune`: container prune, then volume prune (with --volumes), then image prune, as docker does.</summary>
internal static class SystemPruneCommand
{
    public static readonly CliCommand Definition = new(
        "system prune", "", "Remove stopped containers, dangling images (every unused one with -a) and, with --volumes, unused anonymous volumes.",
        [
            new("all", 'a', Help: "remove every image no container uses, not only dangling ones"),
            new("force", 'f', Help: "do not ask for confirmation"),
            new("volumes", Help: "also remove anonymous volumes no container uses"),
            PruneCommand.FilterFlag("until=TIME (not with --volumes), label=KEY[=VALUE], label!=KEY[=VALUE]"),
            CliCommand.Help,
        ],
        Run);

    private static int Run(CliContext context, ParsedArguments args)
    {
        bool all = args.Bool("all"), volumes = args.Bool("volumes");
        var warning = new StringBuilder("WARNING! This will remove:\n  - all stopped containers\n");
        if (volumes)
            warning.Append("  - all anonymous volumes not used by at least one container\n");
        warning.Append(all ? "  - all images without at least one container associated to them\n" : "  - all dangling images\n");
        if (args.Values("filter").Count > 0)
            warning.Append("\n  Items to be pruned will be filtered with:\n");
        foreach (var filter in args.Values("filter"))
            warning.Append($"  - {filter}\n");
        if (!PruneCommand.Confirmed(context, args, warning.ToString()))
            return 0;

        var report = context.Engine.System.Prune(new SystemPruneRequest { AllImages = all, Volumes = volumes, Filters = args.Values("filter") });
        PruneCommand.PrintRemoved(context, "Deleted Containers", report.Containers);
        if (report.Volumes is { } removedVolumes)
            PruneCommand.PrintRemoved(context, "Deleted Volumes", removedVolumes);
        PruneCommand.PrintRemovedImages(context, report.Images);
        context.Out.WriteLine($"Total reclaimed space: {Output.Size(report.ReclaimedBytes)}");
        return 0;
    }
}
