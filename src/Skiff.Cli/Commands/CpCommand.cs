using Skiff.Engine;

namespace Skiff.Cli.Commands;

/// <summary>
/// `skiff cp [-a] [-L] SRC DEST`, one side CONTAINER:PATH, either side "-" for a tar stream on standard input or
/// output; the engine's <see cref="ContainerArchives"/> applies docker's path rules. Every failure exits 1, as
/// docker cp's do (docker's client copies: its failures are the client's).
/// </summary>
internal static class CpCommand
{
    public static readonly CliCommand Definition = new(
        "cp", "SRC_PATH DEST_PATH (one of them CONTAINER:PATH; \"-\" streams a tar)", "Copy files between a container and the host.",
        [new("archive", 'a', Help: "keep the files' uid and gid (else copied files are owned by the container's root)"),
         new("follow-link", 'L', Help: "copy what a source symlink points to"), CliCommand.Help],
        Run, MinPositionals: 2, MaxPositionals: 2, Aliases: ["container cp"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var (sourceContainer, sourcePath) = Split(args.Positionals[0]);
        var (targetContainer, targetPath) = Split(args.Positionals[1]);
        try
        {
            if (sourceContainer is not null && targetContainer is not null)
                throw new CliFailure(ErrorKind.InvalidArgument, "cp: copying between containers is not supported; copy through the host");
            if (sourceContainer is null && targetContainer is null)
                throw new CliFailure(ErrorKind.InvalidArgument, "cp: one of the paths must be CONTAINER:PATH");
            var archives = context.Engine.ContainerFiles;
            bool followLink = args.Bool("follow-link");
            if (sourceContainer is not null && targetPath == "-")
            {
                using var stdout = Console.OpenStandardOutput();
                archives.CopyOut(sourceContainer, sourcePath, stdout, followLink);
            }
            else if (sourceContainer is not null)
            {
                archives.CopyToHost(sourceContainer, sourcePath, targetPath, followLink);
            }
            else if (sourcePath == "-")
            {
                using var stdin = Console.OpenStandardInput();
                archives.CopyIn(targetContainer!, targetPath, stdin, keepOwnership: args.Bool("archive"));
            }
            else
            {
                archives.CopyFromHost(sourcePath, targetContainer!, targetPath, followLink, keepOwnership: args.Bool("archive"));
            }
            return 0;
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error) && error is not CliFailure)
        {
            throw new CliFailure(ErrorKinds.Of(error), error.Message, error);
        }
    }

    /// <summary>docker's split: "NAME:PATH" names a container unless the argument starts like a local path (/, ., or has no colon).</summary>
    private static (string? Container, string Path) Split(string argument)
    {
        if (argument == "-" || argument.StartsWith('/') || argument.StartsWith('.'))
            return (null, argument);
        int colon = argument.IndexOf(':');
        return colon <= 0 ? (null, argument) : (argument[..colon], argument[(colon + 1)..]);
    }
}
