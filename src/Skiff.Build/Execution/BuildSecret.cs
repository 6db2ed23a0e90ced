using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Build.Execution;

/// <summary>A --secret: the file it comes from, or its value (from an environment variable). Never in a layer, history or cache key.</summary>
public sealed record BuildSecret(string? File, byte[]? Value)
{
    public byte[] Read()
    {
        if (Value is { } value)
            return value;
        try
        {
            return System.IO.File.ReadAllBytes(File!);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new BuildException(ErrorKinds.Of(error), $"the secret file {File} cannot be read ({error.Message}); give a readable file with --secret id=ID,src=FILE.", error);
        }
    }
}

/// <summary>
/// What one RUN step holds while it runs: its secret files (and a heredoc script), in a 0700 directory of the run root
/// (a tmpfs, so they never reach a disk), each with the mode and owner its mount asks for; the locks of the cache
/// mounts it uses; the snapshots and scratch overlays its bind mounts see. All removed and released when the step
/// ends, the last held first.
/// </summary>
public sealed class StepResources(string runRoot) : IDisposable
{
    private readonly List<IDisposable> _held = [];
    private string? _directory;

    /// <summary>Keeps <paramref name="held"/> (a lock, a snapshot, a mount) until the step ends.</summary>
    public T Hold<T>(T held) where T : IDisposable
    {
        _held.Add(held);
        return held;
    }

    public string Write(string id, byte[] value, int mode, int uid, int gid)
    {
        if (_directory is null)
        {
            var parent = Path.Combine(runRoot, "build-secrets");
            PrivateStore.EnsureDirectory(parent);
            _directory = Path.Combine(parent, Convert.ToHexStringLower(SecureRandom.Bytes(16)));
            Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        // The mount's file is the secret alone: its id names nothing else, and no path from the Dockerfile is used.
        string file = Path.Combine(_directory, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)))[..16]);
        using (var stream = new FileStream(file, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            stream.Write(value);
        File.SetUnixFileMode(file, (UnixFileMode)mode);
        Errno.Check(Libc.FchownAt(Libc.AT_FDCWD, file, (uint)uid, (uint)gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", file);
        return file;
    }

    public void Dispose()
    {
        if (_directory is not null && Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
        for (int i = _held.Count - 1; i >= 0; i--)
            _held[i].Dispose();
    }
}
