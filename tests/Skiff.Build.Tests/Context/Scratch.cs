using System.Text;
using Skiff.Interop;

namespace Skiff.Build.Tests.Context;

/// <summary>A directory a test fills with files, removed afterwards.</summary>
internal sealed class Scratch : IDisposable
{
    public Scratch() => Path = Directory.CreateTempSubdirectory("skiff-build-context-").FullName;

    public string Path { get; }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public string Write(string relative, string content = "x", UnixFileMode? mode = null)
    {
        var full = this[relative];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content, new UTF8Encoding(false));
        if (mode is { } m)
            File.SetUnixFileMode(full, m);
        return full;
    }

    public string Dir(string relative)
    {
        Directory.CreateDirectory(this[relative]);
        return this[relative];
    }

    public void Link(string relative, string target)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(this[relative])!);
        File.CreateSymbolicLink(this[relative], target);
    }

    public void Dispose() => FileTree.Delete(Path);
}
