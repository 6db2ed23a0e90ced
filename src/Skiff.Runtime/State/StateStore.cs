using System.Text.Json;
using Skiff.Interop;
using static Skiff.Interop.Interop;
using Skiff.Oci;

namespace Skiff.Runtime.State;

/// <summary>
/// The runtime's state root (default /run/skiff-runtime): one directory per container holding
/// state.json (our record), config.json (the spec as created, which exec and hooks use even if the
/// bundle changes later) and exec.fifo while the container is `created`.
/// </summary>
public sealed class StateStore(string root)
{
    public const string DefaultRoot = "/run/skiff-runtime";
    public const string ExecFifoName = "exec.fifo";

    public string Root { get; } = root;

    public string DirectoryOf(string id) => Path.Combine(Root, id);

    public string ExecFifoOf(string id) => Path.Combine(DirectoryOf(id), ExecFifoName);

    /// <summary>Compiled seccomp programs, shared by the containers of this root.</summary>
    public string SeccompCacheDirectory => Path.Combine(Root, ".seccomp");

    /// <summary>
    /// Claims the id atomically: mkdir either creates the directory or fails because another
    /// container (or a concurrent create) owns it.
    /// </summary>
    public string Claim(string id)
    {
        var dir = DirectoryOf(id);
        try
        {
            // runc's root is 0700 too: container states name their bundles, pids and config.
            PrivateStore.EnsureDirectory(Root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SyscallException)
        {
            throw new RuntimeException(ErrorKinds.Of(e), $"cannot create state root {Root}: {e.Message}", e);
        }
        if (Libc.Mkdir(dir, 0b111_000_000) == 0)
            return dir;
        int errno = Errno.Last;
        if (errno == Errno.EEXIST)
            throw new RuntimeException(ErrorKind.AlreadyExists, $"container \"{id}\" already exists: delete it first or choose another id");
        throw new RuntimeException(ErrorKinds.OfErrno(errno), $"cannot create state directory {dir}: {SyscallException.Describe(errno)}");
    }

    public void Save(ContainerRecord record)
    {
        var path = Path.Combine(DirectoryOf(record.Id), "state.json");
        var temporary = path + ".tmp";
        SmallFile.WriteAllBytes(temporary, ContainerRecordJson.Write(record), create: true);
        File.Move(temporary, path, overwrite: true);
    }

    public void SaveSpec(string id, byte[] configJson)
        => SmallFile.WriteAllBytes(Path.Combine(DirectoryOf(id), "config.json"), configJson, create: true);

    public void SaveSpec(string id, Spec spec)
        => SmallFile.WriteAllText(Path.Combine(DirectoryOf(id), "config.json"), OciJson.SerializeSpec(spec, indented: false), create: true);

    public Spec LoadSpec(string id)
    {
        try
        {
            return OciJson.ReadSpec(Path.Combine(DirectoryOf(id), "config.json"));
        }
        catch (OciConfigException) when (!Directory.Exists(DirectoryOf(id)))
        {
            throw new RuntimeException(ErrorKind.NotFound, $"container \"{id}\" does not exist");
        }
    }

    public ContainerRecord Load(string id)
    {
        ContainerId.Validate(id);
        var path = Path.Combine(DirectoryOf(id), "state.json");
        try
        {
            return ContainerRecordJson.Read(SmallFile.ReadAllBytes(path));
        }
        catch (FileNotFoundException)
        {
            if (Directory.Exists(DirectoryOf(id)))
                return new ContainerRecord { Id = id };
            throw new RuntimeException(ErrorKind.NotFound, $"container \"{id}\" does not exist");
        }
        catch (DirectoryNotFoundException)
        {
            throw new RuntimeException(ErrorKind.NotFound, $"container \"{id}\" does not exist");
        }
        catch (JsonException e)
        {
            throw new RuntimeException(ErrorKind.Internal, $"container \"{id}\": state file {path} is corrupt: {e.Message}", e);
        }
    }

    public IEnumerable<string> Ids()
    {
        if (!Directory.Exists(Root))
            yield break;
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            // Dot directories are the runtime's own (.seccomp: compiled filters), not containers.
            if (!Path.GetFileName(dir).StartsWith('.'))
                yield return Path.GetFileName(dir);
        }
    }

    public bool Exists(string id)
    {
        ContainerId.Validate(id);
        return Directory.Exists(DirectoryOf(id));
    }

    public void Remove(string id)
    {
        var dir = DirectoryOf(id);
        // The files this store writes, then the directory: a recursive Directory.Delete first sets
        // up a directory enumerator, half a millisecond of every `delete`. Anything unexpected
        // left inside still goes, through the recursive delete.
        foreach (var name in (string[])["state.json", "state.json.tmp", "config.json", ExecFifoName])
            Libc.Unlink(Path.Combine(dir, name));
        if (Libc.Rmdir(dir) == 0 || Errno.Last == Errno.ENOENT)
            return;
        Directory.Delete(dir, recursive: true);
    }

    public ContainerStatus StatusOf(ContainerRecord record)
    {
        if (record.Pid == 0)
            return ContainerStatus.Creating;
        if (!ProcessInfo.IsAlive(record.Pid, record.PidStartTime))
            return ContainerStatus.Stopped;
        if (record.Paused)
            return ContainerStatus.Paused;
        return File.Exists(ExecFifoOf(record.Id)) ? ContainerStatus.Created : ContainerStatus.Running;
    }
}
