using System.Runtime.InteropServices;
using System.Text;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Cgroups;

/// <summary>
/// All cgroup related file access. Every path handed in is a host-absolute path
/// ("/sys/fs/cgroup/memory/x", "/proc/self/mountinfo"); the instance maps it below <see cref="Root"/>
/// so tests can run against a fake tree in a temporary directory. Methods are virtual so tests can
/// emulate kernel behaviour (control files appearing on mkdir, EBUSY, ...).
/// </summary>
public class CgroupFileSystem
{
    /// <summary>The real file system.</summary>
    public static CgroupFileSystem Host { get; } = new("/");

    public CgroupFileSystem(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = root.Length > 1 ? root.TrimEnd('/') : root;
    }

    public string Root { get; }

    /// <summary>Maps a host-absolute path to the real path used for the I/O.</summary>
    public string Map(string path)
    {
        if (!path.StartsWith('/')) throw new ArgumentException($"path must be absolute: {path}", nameof(path));
        return Root == "/" ? path : Root + path;
    }

    public virtual bool FileExists(string path) => File.Exists(Map(path));

    public virtual bool DirectoryExists(string path) => Directory.Exists(Map(path));

    public virtual string ReadFile(string path) => SmallFile.ReadAllText(Map(path));

    /// <summary>
    /// Writes like runc's cgroups.WriteFile: open O_WRONLY|O_TRUNC without O_CREAT (a missing control
    /// file is an error, never created) and a single write(2) so the kernel sees the whole value.
    /// </summary>
    public virtual void WriteFile(string path, string value) => SmallFile.WriteAllText(Map(path), value);

    /// <summary>Creates exactly one directory level (mkdir(2)); the parent must exist.</summary>
    public virtual void CreateDirectory(string path) => SmallFile.CreateDirectory(Map(path));

    /// <summary>rmdir(2) of one (cgroup) directory. Directory.Delete(recursive: false) calls rmdir directly.</summary>
    public virtual void RemoveDirectory(string path) => Directory.Delete(Map(path), recursive: false);

    /// <summary>Host-absolute paths of the sub directories of <paramref name="path"/>.</summary>
    public virtual IReadOnlyList<string> GetDirectories(string path)
    {
        var mapped = Map(path);
        var result = new List<string>();
        foreach (var d in Directory.EnumerateDirectories(mapped))
            result.Add(CgroupPath.Join(path, Path.GetFileName(d)));
        return result;
    }

    /// <summary>Names (not paths) of the files in <paramref name="path"/>.</summary>
    public virtual IReadOnlyList<string> GetFileNames(string path)
        => Directory.EnumerateFiles(Map(path)).Select(f => Path.GetFileName(f)).ToList();

    /// <summary>
    /// Gives a cgroup2 directory <paramref name="program"/> as its device filter (v2 has no devices
    /// controller). The new program is attached beside the old ones (BPF_F_ALLOW_MULTI) and only then are
    /// the old ones detached, so the cgroup is never without a filter, as runc does it.
    /// </summary>
    public virtual void AttachDeviceFilter(string directory, ulong[] program)
    {
        var path = Map(directory);
        using var dir = FileDescriptor.Wrap(Libc.Open(path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", path);
        var old = Bpf.AttachedPrograms(dir, Bpf.AttachCgroupDevice, path);
        using (var loaded = Bpf.LoadProgram(Bpf.ProgTypeCgroupDevice, program, DeviceFilter.License))
            Bpf.Attach(dir, loaded, Bpf.AttachCgroupDevice, Bpf.FlagAllowMulti, path);
        foreach (var id in old)
        {
            using var replaced = Bpf.ProgramById(id);
            Bpf.Attach(dir, replaced, Bpf.AttachCgroupDevice, 0, path, detach: true);
        }
    }

    /// <summary>errno of an I/O exception thrown by this class (0 when unknown).</summary>
    public static int Errno(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => Errnos.ENOENT,
        UnauthorizedAccessException => Errnos.EACCES,
        IOException io when io.HResult > 0 && io.HResult < 4096 => io.HResult,
        _ => 0,
    };

    /// <summary>strerror-like text for an I/O exception ("Device or resource busy").</summary>
    public static string Describe(Exception e)
    {
        var errno = Errno(e);
        if (e is UnauthorizedAccessException) return "Permission denied";
        return errno != 0 ? Marshal.GetPInvokeErrorMessage(errno) : e.Message;
    }
}

internal static class Errnos
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENOTEMPTY = 39;
    public const int EOPNOTSUPP = 95;
}
