namespace Skiff.Cli.Commands;

internal static class SystemDfCommand
{
    public static readonly CliCommand Definition = new(
        "system df", "", "Show the disk space the image store uses, and what pruning unused images would free.",
        [CliCommand.Help], Run);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var usage = context.Engine.System.DiskUsage();
        static string Reclaimable(long part, long total) => total == 0 ? "0B" : $"{Output.Size(part)} ({100 * part / total}%)";
        Output.Table(context.Out, ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        [
            ["Images", usage.Images.ToString(), usage.ActiveImages.ToString(), Output.Size(usage.LayersSize), Reclaimable(usage.ReclaimableLayersSize, usage.LayersSize)],
            ["Image blobs", usage.Blobs.ToString(), usage.ActiveBlobs.ToString(), Output.Size(usage.BlobsSize), Reclaimable(usage.ReclaimableBlobsSize, usage.BlobsSize)],
        ]);
        return 0;
    }
}
