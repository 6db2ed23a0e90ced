using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Context;

/// <summary>How symlinks in a <see cref="SourceTree"/> resolve.</summary>
public enum SourceScope
{
    /// <summary>The build context: a symlink (or "..") leading out of it is refused, as BuildKit refuses it.</summary>
    Context,

    /// <summary>A stage's or image's root filesystem (COPY --from): symlinks resolve inside it, as in the container.</summary>
    Rootfs,
}

/// <summary>
/// One file, directory or symlink a COPY writes: <see cref="Source"/> its path below the tree's root (no symlink in
/// it), <see cref="Target"/> its path below the destination directory ("" for a directory source itself), and its
/// status when the sources were resolved. <see cref="IsSource"/>: named by the instruction itself (or matched by its
/// glob), not found below a directory source: ADD extracts only such archives.
/// </summary>
public sealed record CopyEntry(string Source, string Target, Libc.Statx Status, bool IsSource = false)
{
    public uint Type => Status.Mode & Libc.S_IFMT;
}

/// <summary>
/// What a COPY/ADD's sources resolved to, in order (each directory before what is in it).
/// <see cref="DestinationIsDirectory"/>: several sources, a glob, or a directory: the destination is a directory
/// whatever its name; else a single file, which takes the destination's name unless that is an existing directory.
/// <see cref="SourceCount"/>: how many sources the instruction named (several need a destination ending in "/").
/// </summary>
public sealed record CopyPlan(IReadOnlyList<CopyEntry> Entries, bool DestinationIsDirectory, bool SingleFile, int SourceCount = 1);

/// <summary>
/// A directory that COPY/ADD sources are resolved in with docker's rules: the build context (a
/// <see cref="BuildContext"/>, .dockerignore applied, escapes refused) or a stage's or image's root filesystem
/// (COPY --from, symlinks resolved inside it). Sources are Go filepath.Match globs relative to the root; a source
/// symlink is followed (inside the root), symlinks below a directory source are copied as links; a directory
/// source copies its contents; `--exclude` patterns apply to paths relative to the source they are found under;
/// `--parents` keeps each source's path (from the root, or from a "/./" in it).
/// </summary>
public sealed class SourceTree(string root, SourceScope scope, IgnorePatterns ignore)
{
    private ulong Resolve => scope == SourceScope.Context
        ? Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_MAGICLINKS
        : Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;

    /// <summary>How entries found by <see cref="Plan"/> are opened again: their paths hold no symlink, so none may be met.</summary>
    internal ulong ResolveEntry => Resolve | Libc.RESOLVE_NO_SYMLINKS;

    public string Root { get; } = Path.GetFullPath(root);

    public SourceScope Scope => scope;

    /// <summary>
    /// Resolves <paramref name="sources"/> (after variable expansion) for one COPY/ADD. <paramref name="instruction"/>
    /// ("COPY", "ADD") names it in errors.
    /// </summary>
    public CopyPlan Plan(IReadOnlyList<string> sources, IReadOnlyList<string> excludes, bool parents, string instruction = "COPY")
    {
        if (sources.Count == 0)
            throw new BuildException($"{instruction} has no source; name at least one file or directory to copy");
        var exclude = IgnorePatterns.Parse(excludes, $"{instruction} --exclude");
        using var rootFd = OpenRoot();
        string rootReal = Libc.ReadLink($"/proc/self/fd/{rootFd.Fd}");
        var entries = new List<CopyEntry>();
        bool anyDirectory = false, anyGlob = false;
        int items = 0;
        foreach (var raw in sources)
        {
            var (pivot, pattern) = Split(raw, parents, instruction);
            bool glob = GoGlob.HasMeta(pattern);
            anyGlob |= glob;
            var matches = glob ? Expand(rootFd, pattern, raw, instruction) : [pattern];
            if (matches.Count == 0)
                throw new BuildException(ErrorKind.NotFound, $"{instruction} source \"{raw}\" matches no file in the {Where}; check the pattern and .dockerignore");
            foreach (var match in matches)
            {
                if (match != "." && scope == SourceScope.Context && ignore.Matches(match))
                {
                    if (glob)
                        continue;
                    throw new BuildException(ErrorKind.NotFound, $"{instruction} source \"{raw}\" is excluded by .dockerignore; remove it from there to copy it");
                }
                var (resolved, status) = ResolveSource(rootFd, rootReal, match, raw, instruction);
                bool isDirectory = (status.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
                string name = match == "." ? "" : match[(match.LastIndexOf('/') + 1)..];
                if (!isDirectory && !exclude.IsEmpty && exclude.Matches(name))
                    continue;
                items++;
                anyDirectory |= isDirectory;
                string target = parents ? Relative(match, pivot) : isDirectory ? "" : name;
                entries.Add(new CopyEntry(resolved, target, status, IsSource: true));
                if (isDirectory)
                    Walk(rootFd, resolved, "", target, exclude, entries);
            }
        }
        bool single = items == 1 && !anyDirectory && !anyGlob;
        return new CopyPlan(entries, DestinationIsDirectory: !single || parents, SingleFile: single && !parents, sources.Count);
    }

    /// <summary>Opens the root as the base every path is resolved from.</summary>
    internal FileDescriptor OpenRoot()
        => FileDescriptor.Wrap(Libc.Open(Root, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", Root);

    /// <summary>Opens an entry <see cref="Plan"/> found, without following any symlink.</summary>
    internal int TryOpenEntry(FileDescriptor rootFd, string source, int flags)
        => Libc.TryOpenAt2(rootFd, source.Length == 0 ? "." : source, flags | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, ResolveEntry);

    private string Where => scope == SourceScope.Context ? "build context" : $"root filesystem {Root}";

    /// <summary>The source's path relative to the root, and for --parents where its kept part starts ("/./").</summary>
    private static (string Pivot, string Pattern) Split(string raw, bool parents, string instruction)
    {
        string pivot = "";
        string path = raw;
        int dot = parents ? ("/" + raw).IndexOf("/./", StringComparison.Ordinal) : -1;
        if (dot >= 0)
            pivot = IgnorePatterns.Clean(("/" + raw)[..dot]).TrimStart('/');
        var clean = IgnorePatterns.Clean(path.TrimStart('/'));
        if (clean == ".." || clean.StartsWith("../", StringComparison.Ordinal))
            throw new BuildException($"{instruction} source \"{raw}\" is outside the build context; sources must be inside it");
        return (pivot == "." ? "" : pivot, clean);
    }

    private static string Relative(string path, string pivot)
        => pivot.Length == 0 ? (path == "." ? "" : path) : path == pivot ? "" : path[(pivot.Length + 1)..];

    /// <summary>filepath.Glob below the root: each component with a meta character is matched against a directory's names.</summary>
    private List<string> Expand(FileDescriptor rootFd, string pattern, string raw, string instruction)
    {
        var found = new List<string> { "" };
        foreach (var component in pattern.Split('/'))
        {
            var next = new List<string>();
            foreach (var prefix in found)
            {
                string path = prefix.Length == 0 ? component : prefix + "/" + component;
                if (!GoGlob.HasMeta(component))
                {
                    next.Add(path);
                    continue;
                }
                int fd = Libc.TryOpenAt2(rootFd, prefix.Length == 0 ? "." : prefix, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, Resolve);
                if (fd < 0)
                    continue; // not a directory, or missing: no match below it
                using var directory = new FileDescriptor(fd);
                foreach (var name in FileTree.Names($"/proc/self/fd/{directory.Fd}").Order(StringComparer.Ordinal))
                {
                    var matched = GoGlob.Match(component, name)
                        ?? throw new BuildException($"{instruction} source \"{raw}\" is a malformed pattern (an unclosed [ or a trailing \\); fix it");
                    if (matched)
                        next.Add(prefix.Length == 0 ? name : prefix + "/" + name);
                }
            }
            found = next;
        }
        return found;
    }

    /// <summary>The real path of a source below the root (its symlinks followed, inside the root) and its status.</summary>
    private (string Resolved, Libc.Statx Status) ResolveSource(FileDescriptor rootFd, string rootReal, string path, string raw, string instruction)
    {
        int fd = Libc.TryOpenAt2(rootFd, path, Libc.O_PATH | Libc.O_CLOEXEC, Resolve);
        if (fd < 0)
        {
            throw Errno.Last switch
            {
                Errno.ENOENT => new BuildException(ErrorKind.NotFound, $"{instruction} source \"{raw}\" does not exist in the {Where}"),
                Errno.EXDEV => new BuildException($"{instruction} source \"{raw}\" leads outside the build context through a symlink or \"..\"; copy what it points to into the context instead"),
                Errno.ENOTDIR => new BuildException(ErrorKind.NotFound, $"{instruction} source \"{raw}\": a part of its path is not a directory"),
                Errno.ELOOP => new BuildException($"{instruction} source \"{raw}\": too many levels of symbolic links"),
                int errno => new SyscallException("openat2", raw, errno),
            };
        }
        using var opened = new FileDescriptor(fd);
        var status = Libc.TryStatAt(opened, "") ?? throw new BuildException(ErrorKind.NotFound, $"{instruction} source \"{raw}\" vanished while it was read");
        string real = Libc.ReadLink($"/proc/self/fd/{opened.Fd}");
        string resolved = real == rootReal ? "" : real.StartsWith(rootReal == "/" ? "/" : rootReal + "/", StringComparison.Ordinal)
            ? real[(rootReal == "/" ? 1 : rootReal.Length + 1)..]
            : throw new BuildException($"{instruction} source \"{raw}\" leads outside the {Where}");
        return (resolved, status);
    }

    /// <summary>Adds what is below the directory <paramref name="directory"/>, in name order; true when anything was added.</summary>
    private bool Walk(FileDescriptor rootFd, string directory, string relative, string target, IgnorePatterns exclude, List<CopyEntry> entries)
    {
        int fd = TryOpenEntry(rootFd, directory, Libc.O_RDONLY | Libc.O_DIRECTORY);
        if (fd < 0)
            throw new SyscallException("openat2", directory.Length == 0 ? Root : directory, Errno.Last);
        using var opened = new FileDescriptor(fd);
        bool any = false;
        foreach (var name in FileTree.Names($"/proc/self/fd/{opened.Fd}").Order(StringComparer.Ordinal))
        {
            if (Libc.TryStatAt(opened, name) is not { } status)
                continue; // removed meanwhile
            string source = directory.Length == 0 ? name : directory + "/" + name;
            string below = relative.Length == 0 ? name : relative + "/" + name;
            bool excluded = (scope == SourceScope.Context && ignore.Matches(source)) || (!exclude.IsEmpty && exclude.Matches(below));
            bool isDirectory = (status.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
            string childTarget = target.Length == 0 ? name : target + "/" + name;
            if (!excluded)
            {
                entries.Add(new CopyEntry(source, childTarget, status));
                any = true;
                if (isDirectory)
                    Walk(rootFd, source, below, childTarget, exclude, entries);
            }
            else if (isDirectory && (ignore.HasExclusions || exclude.HasExclusions))
            {
                // A later "!" pattern may re-include something below: the directory is kept only if it does.
                int at = entries.Count;
                entries.Add(new CopyEntry(source, childTarget, status));
                if (Walk(rootFd, source, below, childTarget, exclude, entries))
                    any = true;
                else
                    entries.RemoveAt(at);
            }
        }
        return any;
    }
}
