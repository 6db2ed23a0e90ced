using Skiff.Engine;
using Skiff.Images.Service;

namespace Skiff.Cli.Commands;

/// <summary>`skiff image prune`, and what every prune shares: docker's confirmation, its sections and the total.</summary>
internal static class PruneCommand
{
    public static readonly CliCommand Definition = new(
        "image prune", "", "Remove dangling images (with --all: every image no container uses) and free what they held.",
        [new("all", 'a', Help: "remove every image no container uses"), new("force", 'f', Help: "do not ask for confirmation"),
         FilterFlag("until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE]"), CliCommand.Help],
        Run);

    private static int Run(CliContext context, ParsedArguments args)
    {
        bool all = args.Bool("all");
        if (!Confirmed(context, args, all
                ? "WARNING! This will remove all images without at least one container associated to them."
                : "WARNING! This will remove all dangling images."))
            return 0;
        var report = context.Images.Prune(all, args.Values("filter"));
        PrintRemovedImages(context, report);
        context.Out.WriteLine($"Total reclaimed space: {Output.Size(report.ReclaimedBytes)}");
        return 0;
    }

    /// <summary>A prune's --filter: docker's KEY=VALUE filters, checked by the engine.</summary>
    public static Flag FilterFlag(string keys) => new("filter", TakesValue: true, Repeatable: true, Help: keys + " (TIME: RFC 3339, unix seconds or a duration such as 24h)");

    /// <summary>
    /// docker's question before a prune, unless --force. The answer is read from stdin even when it is not a
    /// terminal (as docker does), so `echo y | skiff system prune` works and no answer means no.
    /// </summary>
    public static bool Confirmed(CliContext context, ParsedArguments args, string warning)
    {
        if (args.Bool("force"))
            return true;
        context.Out.Write($"{warning}\nAre you sure you want to continue? [y/N] ");
        context.Out.Flush();
        return Console.In.ReadLine()?.Trim().ToLowerInvariant() is "y" or "yes";
    }

    /// <summary>docker's "Deleted Images:" section, when some were.</summary>
    public static void PrintRemovedImages(CliContext context, RemovalReport report)
    {
        if (report.Deleted.Count > 0)
        {
            context.Out.WriteLine("Deleted Images:");
            foreach (string name in report.Untagged)
                context.Out.WriteLine($"untagged: {ImageNames.Familiar(name)}");
            foreach (string id in report.Deleted)
                context.Out.WriteLine($"deleted: {id}");
            context.Out.WriteLine();
        }
    }

    /// <summary>A "Deleted Containers:" or "Deleted Volumes:" section, when something was.</summary>
    public static void PrintRemoved(CliContext context, string title, PruneReport report)
    {
        if (report.Removed.Count == 0)
            return;
        context.Out.WriteLine($"{title}:");
        foreach (var item in report.Removed)
            context.Out.WriteLine(item);
        context.Out.WriteLine();
    }
}
