namespace Skiff.Cli.Commands;

internal static class SystemDfCommand
{
    public static readonly CliCommand Definition = new(
        "system df", "", "Show the disk space the image store and the build cache use, and what pruning would free.",
        [CliCommand.Help], Run);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var usage = context.Engine.System.DiskUsage();
        var build = Skiff.Build.Execution.BuildCacheUsage.Measure(context.Engine, new Skiff.Build.BuildStore(context.EngineOptions));
        static string Reclaimable(long part, long total) => total == 0 ? "0B" : $"{Output.Size(part)} ({100 * part / total}%)";
        Output.Table(context.Out, ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        [
            ["Images", usage.Images.ToString(), usage.ActiveImages.ToString(), Output.Size(usage.LayersSize), Reclaimable(usage.ReclaimableLayersSize, usage.LayersSize)],
            ["Image blobs", usage.Blobs.ToString(), usage.ActiveBlobs.ToString(), Output.Size(usage.BlobsSize), Reclaimable(usage.ReclaimableBlobsSize, usage.BlobsSize)],
            // docker's row: no build runs between commands, so nothing of the cache is active.
            ["Build Cache", (build.Entries + build.CacheMounts).ToString(), "0", Output.Size(build.Size), Output.Size(build.Reclaimable)],
        ]);
        return 0;
    }
}
