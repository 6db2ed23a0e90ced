using System.Globalization;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Cgroups;

/// <summary>
/// Tells when the kernel's OOM killer acted in a container's memory cgroup. <see cref="Fd"/> becomes
/// readable (poll POLLIN) after an OOM; <see cref="ReadKills"/> then says how many happened.
/// v1: an eventfd registered for memory.oom_control through cgroup.event_control (the kernel signals it
/// on every OOM in the cgroup). v2: inotify on memory.events, whose oom_kill counter is compared with
/// the last value seen, so unrelated changes to the file (the high/max counters) are not reported.
/// </summary>
public sealed class OomNotifier : IDisposable
{
    private readonly FileDescriptor _fd;
    private readonly FileDescriptor? _oomControl;
    private readonly CgroupFileSystem _fs;
    private readonly string _watchedFile;
    private readonly bool _isV2;
    private ulong _oomKills;

    private OomNotifier(FileDescriptor fd, FileDescriptor? oomControl, CgroupFileSystem fs, string watchedFile, bool isV2)
    {
        _fd = fd;
        _oomControl = oomControl;
        _fs = fs;
        _watchedFile = watchedFile;
        _isV2 = isV2;
        if (isV2) _oomKills = ReadOomKillCounter();
    }

    public FileDescriptor Fd => _fd;

    internal static OomNotifier OpenV1(CgroupFileSystem fs, string dir)
    {
        var oomControlPath = fs.Map(CgroupPath.Join(dir, "memory.oom_control"));
        var eventControlPath = CgroupPath.Join(dir, "cgroup.event_control");
        var eventFd = Notify.EventFd();
        FileDescriptor? oomControl = null;
        try
        {
            oomControl = FileDescriptor.Wrap(Libc.Open(oomControlPath, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", oomControlPath);
            var registration = string.Create(CultureInfo.InvariantCulture, $"{eventFd.Fd} {oomControl.Fd}");
            try
            {
                fs.WriteFile(eventControlPath, registration);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CgroupException($"cannot watch for OOM kills: write {registration} to {eventControlPath}: {CgroupFileSystem.Describe(e)}", e);
            }
            return new OomNotifier(eventFd, oomControl, fs, eventControlPath, isV2: false);
        }
        catch
        {
            oomControl?.Dispose();
            eventFd.Dispose();
            throw;
        }
    }

    internal static OomNotifier OpenV2(CgroupFileSystem fs, string dir)
    {
        var events = CgroupPath.Join(dir, "memory.events");
        return new OomNotifier(Notify.Inotify(fs.Map(events), Notify.IN_MODIFY), null, fs, events, isV2: true);
    }

    /// <summary>OOM kills since the previous call (0 when the wake-up was about something else). Never blocks.</summary>
    public ulong ReadKills()
    {
        if (!_isV2)
        {
            // the kernel also signals the eventfd when the cgroup is removed: that is no OOM (runc checks the same way)
            var signals = Notify.ReadEventFd(_fd);
            return signals > 0 && _fs.FileExists(_watchedFile) ? signals : 0;
        }
        if (!Notify.DrainInotify(_fd)) return 0;
        var now = ReadOomKillCounter();
        var kills = now > _oomKills ? now - _oomKills : 0;
        _oomKills = now;
        return kills;
    }

    private ulong ReadOomKillCounter()
    {
        string text;
        try { text = _fs.ReadFile(_watchedFile); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return _oomKills; } // cgroup removed
        return ParseOomKills(text);
    }

    /// <summary>The "oom_kill N" counter of memory.events (v2) or memory.oom_control (v1).</summary>
    private static ulong ParseOomKills(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (line.StartsWith("oom_kill ", StringComparison.Ordinal)
                && ulong.TryParse(line.AsSpan("oom_kill ".Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                return count;
        return 0;
    }

    /// <summary>
    /// How many processes the OOM killer has killed in the memory cgroup of <paramref name="inner"/> (a cgroupsPath
    /// as <see cref="CgroupPathResolver.ResolveInner"/> gives it) since it was made; 0 when it or the controller is
    /// missing. For a look after the fact, e.g. once a container exited and before its cgroup is removed.
    /// </summary>
    public static ulong CountKills(CgroupSystem system, string inner, CgroupFileSystem fs)
    {
        var hierarchy = system.Mode == CgroupMode.V2 ? system.Unified : system.FindV1("memory");
        if (hierarchy is null)
            return 0;
        var file = CgroupPath.Join(CgroupPathResolver.HierarchyDir(system, hierarchy, inner), hierarchy.IsV2 ? "memory.events" : "memory.oom_control");
        try
        {
            return ParseOomKills(fs.ReadFile(file));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0;
        }
    }

    public void Dispose()
    {
        _fd.Dispose();
        _oomControl?.Dispose();
    }
}
