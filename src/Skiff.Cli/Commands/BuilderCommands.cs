using Skiff.Build;
using Skiff.Build.Execution;
using Skiff.Engine;

namespace Skiff.Cli.Commands;

/// <summary>`skiff builder prune`: the build cache, as docker's.</summary>
internal static class BuilderCommands
{
    public static readonly CliCommand Prune = new(
        "builder prune", "", "Remove the build cache: step results no image needs, and RUN cache mounts.",
        [new("all", 'a', Help: "accepted as docker's; skiff's cache has no shared part to keep"), new("force", 'f', Help: "do not ask for confirmation"),
         PruneCommand.FilterFlag("until=TIME (entries last used before it)"), CliCommand.Help],
        Run, Aliases: ["buildx prune"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        DateTimeOffset? before = null;
        foreach (var filter in args.Values("filter"))
        {
            var parts = filter.Split('=', 2);
            if (parts.Length != 2 || parts[0] != "until")
                throw new CliFailure(ErrorKind.InvalidArgument, $"builder prune: invalid filter '{filter}'; only until=TIME is supported.");
            before = DockerTime.TryParse(parts[1], DateTimeOffset.UtcNow)
                ?? throw new CliFailure(ErrorKind.InvalidArgument, $"builder prune: until={parts[1]} is not a time (RFC 3339, unix seconds or a duration such as 24h).");
        }
        if (!PruneCommand.Confirmed(context, args, "WARNING! This will remove all dangling build cache."))
            return 0;
        var store = new BuildStore(context.EngineOptions);
        if (!store.Exists)
        {
            context.Out.WriteLine("Total:\t0B");
            return 0;
        }
        using var cache = store.OpenCache();
        var report = BuildCachePrune.Run(context.Engine, cache, before);
        if (report.Images.Count > 0 || report.CacheMounts > 0)
        {
            context.Out.WriteLine("Deleted build cache objects:");
            foreach (var id in report.Images)
                context.Out.WriteLine(id);
            if (report.CacheMounts > 0)
                context.Out.WriteLine($"{report.CacheMounts} cache mount(s)");
        }
        context.Out.WriteLine($"Total:\t{Output.Size(report.ReclaimedBytes)}");
        return 0;
    }
}
