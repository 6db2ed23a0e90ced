using System.Text.Json;
using System.Text.Json.Serialization;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Context;

/// <summary>
/// The sha256 of each file hashed before, kept between builds so that hashing an unchanged context reads no file (as
/// BuildKit's contenthash and git's index do). A file is taken as unchanged while its path, device, inode, size,
/// mtime and ctime are: any write moves ctime, which no user can set back. The cache lives in one JSON file under
/// the directory its owner gives, 0600, replaced atomically (written aside, fsynced, renamed), so a killed build
/// leaves the previous file whole; a file that cannot be read is treated as an empty cache, never as an error.
/// Safe for concurrent lookups from one process (hashing runs on several threads).
/// </summary>
public sealed class StatCache
{
    internal const string FileName = "context-hashes.json";

    // A file changed within the clock's granularity of being hashed could change again with the same ctime: such a
    // "racy" file (git's term) is not remembered, and is read again next time.
    private static readonly TimeSpan RacyWindow = TimeSpan.FromMilliseconds(50);

    // Entries untouched by a build are kept (other Dockerfiles copy other files) up to this many.
    private const int MaxEntries = 200_000;

    private readonly string _path;
    private readonly Dictionary<string, StatCacheEntry> _entries;
    private readonly HashSet<string> _used = [];
    private readonly Lock _lock = new();
    private bool _changed;

    private StatCache(string path, Dictionary<string, StatCacheEntry> entries)
    {
        _path = path;
        _entries = entries;
    }

    /// <summary>Opens the cache kept in <paramref name="directory"/> (created 0700 when missing).</summary>
    public static StatCache Open(string directory)
    {
        PrivateStore.EnsureDirectory(directory);
        var path = Path.Combine(directory, FileName);
        Dictionary<string, StatCacheEntry>? entries = null;
        try
        {
            using var stream = FileTree.OpenRead(path);
            entries = JsonSerializer.Deserialize(stream, StatCacheJsonContext.Default.DictionaryStringStatCacheEntry);
        }
        catch (Exception error) when (error is IOException or JsonException or SyscallException)
        {
            // missing or damaged: start empty, the next Save replaces it
        }
        return new StatCache(path, entries ?? new(StringComparer.Ordinal));
    }

    public int Count
    {
        get
        {
            lock (_lock)
                return _entries.Count;
        }
    }

    /// <summary>The sha256 (hex) remembered for the file <paramref name="path"/> in the state <paramref name="status"/>; null when unknown or changed.</summary>
    internal string? Lookup(string path, in Libc.Statx status)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(path, out var entry) || !entry.Matches(status))
                return null;
            _used.Add(path);
            return entry.Sha256;
        }
    }

    /// <summary>Remembers <paramref name="sha256"/> for <paramref name="path"/> in <paramref name="status"/>, unless it changed too recently to be trusted.</summary>
    internal void Remember(string path, in Libc.Statx status, string sha256, DateTimeOffset hashedAt)
    {
        var changedAt = DateTimeOffset.FromUnixTimeSeconds(status.Ctime.Seconds).AddTicks(status.Ctime.Nanoseconds / 100);
        if (changedAt > hashedAt - RacyWindow)
            return;
        var entry = StatCacheEntry.Of(status, sha256);
        lock (_lock)
        {
            _entries[path] = entry;
            _used.Add(path);
            _changed = true;
        }
    }

    /// <summary>Writes the cache if it changed: to a temporary file beside it, fsynced, then renamed over it.</summary>
    public void Save()
    {
        lock (_lock)
        {
            if (!_changed)
                return;
            if (_entries.Count > MaxEntries)
            {
                foreach (var stale in _entries.Keys.Where(key => !_used.Contains(key)).Take(_entries.Count - MaxEntries).ToList())
                    _entries.Remove(stale);
            }
            var temporary = _path + "." + Convert.ToHexStringLower(SecureRandom.Bytes(6)) + ".tmp";
            try
            {
                using (var file = FileDescriptor.Wrap(
                    Libc.Open(temporary, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, (int)PrivateStore.FileMode), "open", temporary))
                {
                    // The umask may have taken bits of the requested mode; set it exactly.
                    Errno.Check(Libc.Fchmod(file.Fd, PrivateStore.FileMode), "fchmod", temporary);
                    using (var stream = new BufferedStream(new DescriptorStream(file.Fd, write: true), 1 << 16))
                        JsonSerializer.Serialize(stream, _entries, StatCacheJsonContext.Default.DictionaryStringStatCacheEntry);
                    Errno.Check(Libc.Fsync(file.Fd), "fsync", temporary);
                }
                File.Move(temporary, _path, overwrite: true);
                Libc.FsyncDirectory(Path.GetDirectoryName(_path)!);
                _changed = false;
            }
            catch
            {
                File.Delete(temporary);
                throw;
            }
        }
    }
}

/// <summary>What identifies one state of a file, and its sha256 in that state.</summary>
internal sealed class StatCacheEntry
{
    [JsonPropertyName("dev")] public ulong Device { get; set; }
    [JsonPropertyName("ino")] public ulong Inode { get; set; }
    [JsonPropertyName("size")] public ulong Size { get; set; }
    [JsonPropertyName("mtime")] public long MtimeNanoseconds { get; set; }
    [JsonPropertyName("ctime")] public long CtimeNanoseconds { get; set; }
    [JsonPropertyName("sha256")] public string Sha256 { get; set; } = "";

    public static StatCacheEntry Of(in Libc.Statx status, string sha256) => new()
    {
        Device = Libc.MakeDev(status.DevMajor, status.DevMinor),
        Inode = status.Ino,
        Size = status.Size,
        MtimeNanoseconds = Nanoseconds(status.Mtime),
        CtimeNanoseconds = Nanoseconds(status.Ctime),
        Sha256 = sha256,
    };

    public bool Matches(in Libc.Statx status)
        => Device == Libc.MakeDev(status.DevMajor, status.DevMinor) && Inode == status.Ino && Size == status.Size
           && MtimeNanoseconds == Nanoseconds(status.Mtime) && CtimeNanoseconds == Nanoseconds(status.Ctime);

    private static long Nanoseconds(Libc.Timespec32 time) => time.Seconds * 1_000_000_000 + time.Nanoseconds;
}

[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(Dictionary<string, StatCacheEntry>))]
internal sealed partial class StatCacheJsonContext : JsonSerializerContext;
