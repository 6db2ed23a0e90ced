namespace Skiff.Storage;

public static class DirectoryUsage
{
    /// <summary>Bytes of file data under <paramref name="path"/> (symlinks not followed); 0 when it does not exist.</summary>
    public static long Bytes(string path)
        => !Directory.Exists(path) ? 0 : new DirectoryInfo(path).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
            .Where(file => file.LinkTarget is null)
            .Sum(file => file.Length);
}
