using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;
using Notify = Skiff.Interop.Interop.Notify;

namespace Skiff.Engine.Events;

/// <summary>
/// The engine's event log (podman's file events backend): skiff is daemonless, so every command and every monitor
/// appends what it did to ROOT/events/events.log, one JSON line per event written with O_APPEND in a single
/// write, so concurrent writers never interleave. At <see cref="MaximumSize"/> the file is renamed to
/// events.log.1 (the previous one goes) under a lock, so two writers never rotate twice. `skiff events` reads
/// both and follows new lines through inotify on the directory.
/// </summary>
public sealed class EventJournal
{
    public const string FileName = "events.log";
    public const long DefaultMaximumSize = 1024 * 1024;
    private const uint IN_CREATE = 0x100;
    private const uint IN_MOVED_TO = 0x80;

    private readonly ILogger _logger;

    /// <param name="logger">where <see cref="TryRecord"/> says why an event could not be written</param>
    public EventJournal(string directory, long maximumSize = DefaultMaximumSize, ILogger? logger = null)
    {
        Directory = directory;
        MaximumSize = maximumSize;
        _logger = logger ?? NullLogger.Instance;
    }

    public string Directory { get; }
    public long MaximumSize { get; }
    private string CurrentPath => Path.Combine(Directory, FileName);
    private string RotatedPath => CurrentPath + ".1";

    /// <summary>Appends <paramref name="e"/>; an <see cref="IOException"/> or <see cref="SyscallException"/> when it cannot be written.</summary>
    public void Record(EngineEvent e)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(e, EventJsonContext.Default.EngineEvent);
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        PrivateStore.EnsureDirectory(Directory);
        var file = OpenForAppend();
        try
        {
            if (Libc.Lseek(file.Fd, 0, 2 /* SEEK_END */) is var size and > 0 && size + line.Length > MaximumSize)
            {
                file.Dispose();
                file = Rotate(line.Length);
            }
            Libc.WriteAll(file, line, CurrentPath);
        }
        finally
        {
            file.Dispose();
        }
    }

    /// <summary>
    /// Records <paramref name="e"/>, or logs a warning saying why it could not: what the event is about (a container
    /// that started, a volume that was made) happened all the same, and a full disk must not undo it.
    /// </summary>
    public void TryRecord(EngineEvent e)
    {
        try
        {
            Record(e);
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error))
        {
            _logger.LogWarning("the {Type} {Action} event of {Actor} was not recorded in {Path}: {Reason}", e.Type, e.Action, e.Actor.Id, CurrentPath,
                SystemErrors.Reason(error));
        }
    }

    private FileDescriptor OpenForAppend()
        => FileDescriptor.Wrap(Libc.Open(CurrentPath, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC, 0x180 /* 0600 */), "open", CurrentPath);

    /// <summary>Under the lock, the file is looked at again: a writer that rotated meanwhile left a fresh one to append to.</summary>
    private FileDescriptor Rotate(int lineLength)
    {
        using var exclusive = Libc.LockFile(Path.Combine(Directory, "lock"));
        var file = OpenForAppend();
        if (Libc.Lseek(file.Fd, 0, 2 /* SEEK_END */) is var size and > 0 && size + lineLength > MaximumSize)
        {
            File.Move(CurrentPath, RotatedPath, overwrite: true);
            file.Dispose();
            file = OpenForAppend();
        }
        return file;
    }

    /// <summary>
    /// The recorded events, oldest first. With <paramref name="since"/> or <paramref name="until"/>, the past ones
    /// in that range; with <paramref name="follow"/>, then every new one as it is appended (across rotations),
    /// until <paramref name="until"/> passes or <paramref name="cancel"/> fires. The directory is watched before the
    /// first read from the position noted when the file was opened, so nothing appended after the call is missed.
    /// </summary>
    public IEnumerable<EngineEvent> Read(DateTimeOffset? since, DateTimeOffset? until, bool follow, CancellationToken cancel = default)
    {
        long? sinceNano = since is { } s ? ToNano(s) : null, untilNano = until is { } u ? ToNano(u) : null;
        bool Wanted(EngineEvent e) => (sinceNano is not { } from || e.TimeNano >= from) && (untilNano is not { } to || e.TimeNano <= to);
        bool replay = since is not null || until is not null;
        PrivateStore.EnsureDirectory(Directory);
        if (replay)
        {
            using var rotated = LineReader.Open(RotatedPath);
            if (rotated is not null)
                foreach (var e in rotated.ReadNew(Parse).Where(Wanted))
                    yield return e;
        }
        var current = LineReader.Open(CurrentPath);
        try
        {
            if (current is not null && !replay)
                current.Seek(current.File.Length);
            using var watch = follow ? Notify.Inotify(Directory, Notify.IN_MODIFY | IN_CREATE | IN_MOVED_TO) : null;
            using var cancelled = follow ? Notify.EventFd() : null;
            using var registration = cancelled is null ? default : cancel.Register(() => Signal(cancelled));
            while (true)
            {
                if (current is not null)
                    foreach (var e in current.ReadNew(Parse).Where(Wanted))
                        yield return e;
                if (!follow || cancel.IsCancellationRequested || (untilNano is { } end && ToNano(DateTimeOffset.UtcNow) > end))
                    yield break;
                if (current is null ? File.Exists(CurrentPath) : JsonLines.Rotated(current.File, CurrentPath))
                {
                    // What reached the old file before the rename was read above; the new file is read from its start.
                    if (current is not null)
                        foreach (var e in current.ReadNew(Parse).Where(Wanted))
                            yield return e;
                    current?.Dispose();
                    current = LineReader.Open(CurrentPath);
                    continue;
                }
                int timeout = until is { } deadline ? (int)Math.Clamp((deadline - DateTimeOffset.UtcNow).TotalMilliseconds + 1, 0, int.MaxValue) : -1;
                WaitReadable(watch!, cancelled!, timeout);
                Notify.DrainInotify(watch!);
            }
        }
        finally
        {
            current?.Dispose();
        }
    }

    private static long ToNano(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks * 100;

    private static EngineEvent? Parse(ReadOnlyMemory<byte> line) => JsonSerializer.Deserialize(line.Span, EventJsonContext.Default.EngineEvent);

    private static unsafe void Signal(FileDescriptor eventFd)
    {
        ulong one = 1;
        Libc.Write(eventFd.Fd, (byte*)&one, sizeof(ulong));
    }

    private static unsafe void WaitReadable(FileDescriptor watch, FileDescriptor cancelled, int timeoutMs)
    {
        var fds = stackalloc Libc.PollFd[2];
        fds[0] = new Libc.PollFd { Fd = watch.Fd, Events = Libc.POLLIN };
        fds[1] = new Libc.PollFd { Fd = cancelled.Fd, Events = Libc.POLLIN };
        while (Libc.Poll(fds, 2, timeoutMs) < 0)
        {
            if (Errno.Last != Errno.EINTR)
                throw new SyscallException("poll", "inotify", Errno.Last);
        }
    }
}
