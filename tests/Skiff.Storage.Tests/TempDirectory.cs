namespace Skiff.Storage.Tests;

internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("skiff-storage-test-").FullName;
    }

    public string Path { get; }

    public void Dispose() => Skiff.Interop.FileTree.Delete(Path);
}
