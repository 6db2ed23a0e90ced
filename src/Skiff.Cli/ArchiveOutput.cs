namespace Skiff.Cli;

/// <summary>Where <c>save</c> and <c>export</c> send a tar archive: a file given with <c>-o</c>, else standard output.</summary>
internal static class ArchiveOutput
{
    /// <summary>
    /// Calls <paramref name="write"/> with <paramref name="path"/> opened, or with standard output when there is no
    /// path; a terminal is refused, as docker refuses it. A file is written under a temporary name and renamed at
    /// the end, so a failure never leaves a truncated archive under the name.
    /// </summary>
    public static void Write(string command, string? path, Action<Stream> write)
    {
        if (path is null)
        {
            if (!Console.IsOutputRedirected)
                throw new UsageException($"{command}: refusing to write an archive to a terminal: use -o FILE or redirect the output");
            using var stdout = Console.OpenStandardOutput();
            write(stdout);
            return;
        }
        Skiff.Interop.FileTree.WriteReplacing(path, write);
    }
}
