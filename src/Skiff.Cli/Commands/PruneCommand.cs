namespace Skiff.Cli.Commands;

internal static class PruneCommand
{
    public static readonly CliCommand Definition = new(
        "image prune", "", "Remove dangling images (with --all: every image no container uses) and free what they held.",
        [new("all", 'a', Help: "remove every image no container uses"), new("force", 'f', Help: "do not ask for confirmation"), CliCommand.Help],
        Run);

    private static int Run(CliContext context, ParsedArguments args)
    {
        bool all = args.Bool("all");
        if (!args.Bool("force"))
        {
            context.Out.Write(all
                ? "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] "
                : "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ");
            context.Out.Flush();
            if (Console.In.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes"))
                return 0;
        }
        var report = context.Images.Prune(all);
        if (report.Deleted.Count > 0)
        {
            context.Out.WriteLine("Deleted Images:");
            foreach (string name in report.Untagged)
                context.Out.WriteLine($"untagged: {Output.Familiar(name)}");
            foreach (string id in report.Deleted)
                context.Out.WriteLine($"deleted: {id}");
            context.Out.WriteLine();
        }
        context.Out.WriteLine($"Total reclaimed space: {Output.Size(report.ReclaimedBytes)}");
        return 0;
    }
}
