using System.Security.Cryptography;
using System.Text;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Context;

/// <summary>The digest of a COPY's sources and what computing it cost (files whose contents had to be read).</summary>
public sealed record ContentDigest(string Digest, int FilesRead, long BytesRead);

/// <summary>
/// The content digest of what a COPY/ADD writes, for the build cache key: for each entry in order, its name below
/// the destination, type, mode (after --chmod), owner (after --chown, or root's), size, the sha256 of a file's
/// contents, which earlier file it is hard-linked to, a symlink's target and the extended attributes; never times, so touching a file or checking it out
/// again does not invalidate the cache (BuildKit's rule). File contents come from the <see cref="StatCache"/>
/// when the file has not changed since it was last hashed, and are otherwise read, on several threads.
/// </summary>
public static class ContentHasher
{
    public static ContentDigest Compute(SourceTree tree, CopyPlan plan, (uint Uid, uint Gid) owner, ModeChange? chmod, StatCache? cache)
    {
        var hashedAt = DateTimeOffset.UtcNow;
        using var rootFd = tree.OpenRoot();
        var entries = plan.Entries;
        var contents = new string?[entries.Count];
        var toRead = new List<int>();
        for (int i = 0; i < entries.Count; i++)
        {
            if (entries[i].Type != Libc.S_IFREG)
                continue;
            contents[i] = cache?.Lookup(CacheKey(tree, entries[i]), entries[i].Status);
            if (contents[i] is null)
                toRead.Add(i);
        }
        long bytesRead = 0;
        Parallel.ForEach(toRead, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var (digest, status) = HashFile(tree, rootFd, entries[i]);
            contents[i] = digest;
            Interlocked.Add(ref bytesRead, (long)status.Size);
            cache?.Remember(CacheKey(tree, entries[i]), status, digest, hashedAt);
        });

        using var parents = new ParentDirectories(tree, rootFd);
        // A copy keeps hard links between its files, so which files are one inode is part of what it writes.
        var firstLinked = new Dictionary<(uint, uint, ulong), string>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var line = new StringBuilder();
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            uint mode = chmod?.Apply(entry.Status.Mode) ?? (uint)(entry.Status.Mode & 0xFFF);
            line.Clear()
                .Append(entry.Target).Append('\0')
                .Append(entry.Type >> 12).Append('\0')
                .Append(Convert.ToString(mode, 8)).Append('\0')
                .Append(owner.Uid).Append(':').Append(owner.Gid).Append('\0');
            switch (entry.Type)
            {
                case Libc.S_IFREG:
                    line.Append(entry.Status.Size).Append('\0').Append(contents[i]);
                    if (entry.Status.Nlink > 1 && !firstLinked.TryAdd((entry.Status.DevMajor, entry.Status.DevMinor, entry.Status.Ino), entry.Target))
                        line.Append("\0link=").Append(firstLinked[(entry.Status.DevMajor, entry.Status.DevMinor, entry.Status.Ino)]);
                    break;
                case Libc.S_IFLNK:
                    line.Append(ReadLink(tree, rootFd, entry));
                    break;
                case Libc.S_IFCHR or Libc.S_IFBLK:
                    line.Append(entry.Status.RdevMajor).Append(',').Append(entry.Status.RdevMinor);
                    break;
            }
            line.Append('\0');
            if (entry.Type != Libc.S_IFLNK)
            {
                var path = parents.PathOf(entry.Source);
                foreach (var name in Libc.ListXattrsNoFollow(path).Order(StringComparer.Ordinal))
                    line.Append(name).Append('=').Append(Convert.ToHexString(Libc.GetXattrNoFollow(path, name) ?? [])).Append('\0');
            }
            line.Append('\n');
            hash.AppendData(Encoding.UTF8.GetBytes(line.ToString()));
        }
        return new ContentDigest("sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset()), toRead.Count, bytesRead);
    }

    private static string CacheKey(SourceTree tree, CopyEntry entry) => tree.Root + "/" + entry.Source;

    private static (string Digest, Libc.Statx Status) HashFile(SourceTree tree, FileDescriptor rootFd, CopyEntry entry)
    {
        int fd = tree.TryOpenEntry(rootFd, entry.Source, Libc.O_RDONLY);
        if (fd < 0)
            throw Errno.Last == Errno.ENOENT
                ? new BuildException(ErrorKind.NotFound, $"{entry.Source} was removed from {tree.Root} while it was hashed; build again")
                : new SyscallException("openat2", $"{tree.Root}/{entry.Source}", Errno.Last);
        using var file = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 0);
        using var opened = new FileDescriptor(fd, ownsHandle: false);
        // Stated through the descriptor read: the cache then remembers the state of exactly the bytes hashed.
        var status = Libc.TryStatAt(opened, "") ?? entry.Status;
        return (Convert.ToHexStringLower(SHA256.HashData(file)), status);
    }

    internal static string ReadLink(SourceTree tree, FileDescriptor rootFd, CopyEntry entry)
    {
        int fd = tree.TryOpenEntry(rootFd, entry.Source, Libc.O_PATH);
        using var link = fd >= 0 ? new FileDescriptor(fd) : throw new SyscallException("openat2", $"{tree.Root}/{entry.Source}", Errno.Last);
        return Libc.ReadLink(link);
    }
}

/// <summary>
/// Descriptors of the directories holding a plan's entries, each opened once, giving "/proc/self/fd/N/name" paths:
/// the calls that take a path then reach the entry itself through a directory already confined to the tree.
/// </summary>
internal sealed class ParentDirectories(SourceTree tree, FileDescriptor rootFd) : IDisposable
{
    private readonly Dictionary<string, FileDescriptor> _open = new(StringComparer.Ordinal);

    public string PathOf(string source)
    {
        int slash = source.LastIndexOf('/');
        string parent = slash < 0 ? "" : source[..slash];
        string name = source.Length == 0 ? "." : source[(slash + 1)..];
        if (!_open.TryGetValue(parent, out var directory))
        {
            int fd = tree.TryOpenEntry(rootFd, parent, Libc.O_PATH | Libc.O_DIRECTORY);
            directory = fd >= 0 ? new FileDescriptor(fd) : throw new SyscallException("openat2", $"{tree.Root}/{parent}", Errno.Last);
            _open[parent] = directory;
        }
        return $"/proc/self/fd/{directory.Fd}/{name}";
    }

    public void Dispose()
    {
        foreach (var directory in _open.Values)
            directory.Dispose();
    }
}
