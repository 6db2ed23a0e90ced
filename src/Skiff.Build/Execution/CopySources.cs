using System.Text;
using Skiff.Build.Context;
using Skiff.Build.Dockerfile;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Execution;

/// <summary>
/// Some of a COPY/ADD's sources that one <see cref="SourceTree"/> holds: <see cref="Origin"/> names it in the step's
/// cache key ("context", an image ID, "heredoc", a URL); <see cref="Extract"/>: ADD unpacks the archives among them
/// (local files only: BuildKit unpacks neither a download nor a heredoc); <see cref="InContext"/>: the build context,
/// whose digests the stat cache may remember.
/// </summary>
internal sealed record CopySourceGroup(SourceTree Tree, IReadOnlyList<string> Sources, string Origin, bool Extract, bool InContext);

/// <summary>
/// Where one COPY/ADD reads its sources, as BuildKit's dispatchCopy: the paths (from the context, or the --from stage or
/// image), each http(s) URL of an ADD fetched into a directory of its own, and each heredoc's body written as a file
/// named after its delimiter (0644, as BuildKit's Mkfile), substituted unless the delimiter was quoted. Local paths
/// and URLs keep their order; heredocs come last, as BuildKit copies them. Disposing removes every download and
/// heredoc file.
/// </summary>
internal sealed class CopySources : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<CopySourceGroup> _groups = [];

    private CopySources()
    {
    }

    public IReadOnlyList<CopySourceGroup> Groups => _groups;

    /// <param name="raw">The sources as written (heredoc markers are found there, before substitution).</param>
    /// <param name="expanded">The same sources after substitution.</param>
    /// <param name="local">Where paths are read: the context or the --from root filesystem.</param>
    /// <param name="localOrigin">"context", or the --from image's ID.</param>
    public static async Task<CopySources> OpenAsync(FileInstruction file, IReadOnlyList<string> raw, IReadOnlyList<string> expanded,
        char escape, IReadOnlyDictionary<string, string> scope, SourceTree local, string localOrigin, string temporaryRoot,
        Func<string, Task<FetchedFile>> fetch)
    {
        var sources = new CopySources();
        try
        {
            var heredocs = new List<Heredoc>();
            var paths = new List<string>();
            for (int i = 0; i < raw.Count; i++)
            {
                if (file.Heredocs.Count > 0 && DockerfileParser.HeredocWord(raw[i], escape) is { } marker)
                {
                    // As BuildKit's lookup by name: a body not read (an ONBUILD trigger's) is an empty file.
                    heredocs.Add(file.Heredocs.LastOrDefault(h => h.Name == marker.Name) ?? marker);
                    continue;
                }
                if (file is AddInstruction && RemoteSource.IsGitRepository(expanded[i]))
                    throw new BuildException($"ADD {expanded[i]}: a git repository as a source is not supported by skiff; clone it into the build context, or in a RUN step with git.");
                if (file is AddInstruction && RemoteSource.IsUrl(expanded[i]))
                {
                    sources.AddPaths(local, paths, localOrigin, file is AddInstruction);
                    var fetched = await fetch(expanded[i]).ConfigureAwait(false);
                    sources._owned.Add(fetched);
                    sources._groups.Add(new CopySourceGroup(fetched.Tree, [fetched.Name], expanded[i], Extract: false, InContext: false));
                    continue;
                }
                paths.Add(expanded[i]);
            }
            sources.AddPaths(local, paths, localOrigin, file is AddInstruction);
            if (heredocs.Count > 0)
                sources.AddHeredocs(heredocs, scope, temporaryRoot, file.Keyword);
            return sources;
        }
        catch
        {
            sources.Dispose();
            throw;
        }
    }

    private void AddPaths(SourceTree local, List<string> paths, string origin, bool add)
    {
        if (paths.Count == 0)
            return;
        _groups.Add(new CopySourceGroup(local, [.. paths], origin, Extract: add, InContext: origin == "context"));
        paths.Clear();
    }

    private void AddHeredocs(IReadOnlyList<Heredoc> heredocs, IReadOnlyDictionary<string, string> scope, string temporaryRoot, string keyword)
    {
        PrivateStore.EnsureDirectory(temporaryRoot);
        var directory = Path.Combine(temporaryRoot, "heredoc-" + Convert.ToHexStringLower(SecureRandom.Bytes(8)));
        Errno.Check(Libc.Mkdir(directory, PrivateStore.DirectoryMode), "mkdir", directory);
        _owned.Add(new TemporaryDirectory(directory));
        foreach (var heredoc in heredocs)
        {
            if (heredoc.Name.Contains('/') || heredoc.Name is "." or "..")
                throw new BuildException($"{keyword} <<{heredoc.Name}: a heredoc source is a file named after its delimiter, and \"{heredoc.Name}\" cannot name a file; use a delimiter without '/'");
            string content = heredoc.Expand ? ShellWordExpander.ExpandHeredoc(heredoc.Content, scope) : heredoc.Content;
            var path = Path.Combine(directory, heredoc.Name);
            // Two heredocs of one name: the last body is both, as BuildKit's lookup by name gives.
            using (var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
                stream.Write(Encoding.UTF8.GetBytes(content));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        _groups.Add(new CopySourceGroup(new SourceTree(directory, SourceScope.Rootfs, IgnorePatterns.None), [.. heredocs.Select(h => h.Name)],
            "heredoc", Extract: false, InContext: false));
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
            owned.Dispose();
    }

    private sealed class TemporaryDirectory(string path) : IDisposable
    {
        public void Dispose() => FileTree.Delete(path);
    }
}
