using Skiff.Engine.Monitor;

namespace Skiff.Api;

/// <summary>
/// What docker's clients ask of a container before they start it, kept until the start: `docker run` attaches
/// (a hijacked connection) and registers its wait (`next-exit`, or `removed` with --rm) on the created container,
/// then starts it. The start hands the attach its session, connected to the monitor before the program runs so no
/// output is missed, and the exit status that session reads goes to the waits: an auto-removed container is gone
/// when its status arrives, so it could not be asked for afterwards. Only containers started through this service
/// are known here; a wait on one started elsewhere falls back to the engine's own wait.
/// </summary>
internal sealed class ContainerRuns
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = [];

    private sealed class Entry
    {
        public List<PendingAttach> Attaches { get; } = [];
        public List<TaskCompletionSource<int>> Waits { get; } = [];
        /// <summary>Started here and not exited yet: its waits are answered by <see cref="PublishExit"/>.</summary>
        public bool Running { get; set; }
    }

    /// <summary>An attach waiting for the container's start; its task gives the session (or the start's failure).</summary>
    public sealed class PendingAttach
    {
        public TaskCompletionSource<AttachSession> Session { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public PendingAttach AddAttach(string id)
    {
        var attach = new PendingAttach();
        lock (_lock)
            EntryOf(id).Attaches.Add(attach);
        return attach;
    }

    /// <summary>An attach whose client went away before the start.</summary>
    public void RemoveAttach(string id, PendingAttach attach)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(id, out var entry))
            {
                entry.Attaches.Remove(attach);
                Forget(id, entry);
            }
        }
    }

    /// <summary>The container's next exit status, as a start through this service will publish it.</summary>
    public TaskCompletionSource<int> AddWait(string id)
    {
        var wait = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
            EntryOf(id).Waits.Add(wait);
        return wait;
    }

    public void RemoveWait(string id, TaskCompletionSource<int> wait)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(id, out var entry))
            {
                entry.Waits.Remove(wait);
                Forget(id, entry);
            }
        }
    }

    /// <summary>Whether the container was started here and its exit will be published (so a wait need not ask the engine).</summary>
    public bool StartedHere(string id)
    {
        lock (_lock)
            return _entries.TryGetValue(id, out var entry) && entry.Running;
    }

    /// <summary>
    /// At a start: the attaches waiting for it (taken), and whether anyone waits for its exit; either way the start
    /// must connect to the monitor to read the exit status.
    /// </summary>
    public (IReadOnlyList<PendingAttach> Attaches, bool Waited) TakeForStart(string id)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(id, out var entry))
                return ([], false);
            var attaches = entry.Attaches.ToList();
            entry.Attaches.Clear();
            entry.Running = attaches.Count > 0 || entry.Waits.Count > 0;
            Forget(id, entry);
            return (attaches, entry.Waits.Count > 0);
        }
    }

    /// <summary>The container's exit (or its failed start, with <paramref name="status"/> null): every wait registered for it learns it.</summary>
    public void PublishExit(string id, int? status)
    {
        List<TaskCompletionSource<int>> waits;
        lock (_lock)
        {
            if (!_entries.TryGetValue(id, out var entry))
                return;
            entry.Running = false;
            if (status is null)
            {
                Forget(id, entry);
                return;
            }
            waits = entry.Waits.ToList();
            entry.Waits.Clear();
            Forget(id, entry);
        }
        foreach (var wait in waits)
            wait.TrySetResult(status.Value);
    }

    private Entry EntryOf(string id)
    {
        if (!_entries.TryGetValue(id, out var entry))
            _entries[id] = entry = new Entry();
        return entry;
    }

    private void Forget(string id, Entry entry)
    {
        if (entry.Attaches.Count == 0 && entry.Waits.Count == 0 && !entry.Running)
            _entries.Remove(id);
    }
}
