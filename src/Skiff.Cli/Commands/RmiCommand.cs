using Skiff.Engine;

namespace Skiff.Cli.Commands;

internal static class RmiCommand
{
    public static readonly CliCommand Definition = new(
        "rmi", "IMAGE [IMAGE...]", "Remove images (by name: that name, and the image with its last name), then free what no image uses.",
        [new("force", 'f', Help: "remove an image with several names by ID; only untag an image a container uses"), CliCommand.Help],
        Run, MinPositionals: 1, MaxPositionals: -1, Aliases: ["image rm", "image remove"]);

    /// <summary>Like docker: every argument is tried, failures are reported one line each, and the status says whether any failed.</summary>
    private static int Run(CliContext context, ParsedArguments args)
    {
        int status = 0;
        foreach (string image in args.Positionals)
        {
            try
            {
                var report = context.Images.Remove(image, args.Bool("force"));
                foreach (string name in report.Untagged)
                    context.Out.WriteLine($"Untagged: {ImageNames.Familiar(name)}");
                foreach (string id in report.Deleted)
                    context.Out.WriteLine($"Deleted: {id}");
            }
            catch (Exception error) when (ErrorKinds.IsExpected(error))
            {
                status = Program.Report(error);
            }
        }
        return status;
    }
}
