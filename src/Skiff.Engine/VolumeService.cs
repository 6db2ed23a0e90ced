using Skiff.Engine.Containers;
using Skiff.Engine.Events;
using Skiff.Interop;

namespace Skiff.Engine;

/// <summary>
/// The engine's volumes (`host.Volumes`: create, list, inspect, remove, prune): named volumes are directories under
/// ROOT/volumes/NAME/_data recorded in the engine database; anonymous ones (image VOLUMEs, `-v /path`) get a 64-digit name.
/// </summary>
public sealed class VolumeService
{
    private readonly EngineOptions _options;
    private readonly ContainerStore _store;
    private readonly EventJournal _events;

    internal VolumeService(EngineOptions options, ContainerStore store, EventJournal events)
    {
        _options = options;
        _store = store;
        _events = events;
    }

    public string DataPath(string name) => Path.Combine(_options.VolumesDirectory, name, "_data");

    /// <summary>
    /// A volume named <paramref name="name"/> (a random name when null): an existing volume of that name is returned as
    /// it is, as docker does. The driver is docker's <c>local</c> (null or empty means it), without options.
    /// </summary>
    /// <exception cref="EngineException">InvalidArgument for another driver, driver options or a bad name.</exception>
    public VolumeRecord Create(string? name = null, IReadOnlyDictionary<string, string>? labels = null, string? driver = null,
        IReadOnlyDictionary<string, string>? driverOptions = null)
    {
        if (!string.IsNullOrEmpty(driver) && driver != "local")
            throw new EngineException(ErrorKind.InvalidArgument, $"volume driver \"{driver}\" is not available: skiff has the local driver only");
        if (driverOptions is { Count: > 0 })
            throw new EngineException(ErrorKind.InvalidArgument, $"volume driver options ({string.Join(", ", driverOptions.Keys)}) are not supported: skiff's local volumes are plain directories; create the volume without them");
        if (name is not null)
            Validate(name);
        var volume = new VolumeRecord(name ?? NameGenerator.NewId(), DateTimeOffset.UtcNow, labels ?? new Dictionary<string, string>(), Anonymous: false);
        return Add(volume).Volume;
    }

    /// <summary>The named volume a `-v NAME:/path` refers to, created when missing; Created says whether this call made it.</summary>
    internal (string Name, bool Created) Ensure(string name)
    {
        Validate(name);
        var (volume, created) = Add(new VolumeRecord(name, DateTimeOffset.UtcNow, new Dictionary<string, string>(), Anonymous: false));
        return (volume.Name, created);
    }

    internal string CreateAnonymous()
        => Add(new VolumeRecord(NameGenerator.NewId(), DateTimeOffset.UtcNow, new Dictionary<string, string>(), Anonymous: true)).Volume.Name;

    private (VolumeRecord Volume, bool Created) Add(VolumeRecord volume)
    {
        if (_store.GetVolume(volume.Name) is { } existing)
            return (existing, false);
        PrivateStore.EnsureDirectory(_options.VolumesDirectory);
        PrivateStore.EnsureDirectory(Path.Combine(_options.VolumesDirectory, volume.Name));
        // _data is what the container sees at the mount point: the usual 0755, as docker makes it.
        SmallFile.CreateDirectory(DataPath(volume.Name));
        if (_store.InsertVolume(volume))
        {
            RecordEvent(volume.Name, "create");
            return (volume, true);
        }
        return (_store.GetVolume(volume.Name)!, false); // created by a concurrent command: its directory is the same
    }

    public IReadOnlyList<VolumeRecord> List() => _store.ListVolumes();

    /// <summary>
    /// The volumes docker's list <paramref name="filters"/> select: name (a part of the name), label (KEY or
    /// KEY=VALUE), driver (local), dangling (true: used by no container; false: used by one).
    /// </summary>
    /// <exception cref="EngineException">InvalidArgument for another key or a dangling value that is not a boolean.</exception>
    public IReadOnlyList<VolumeRecord> List(IReadOnlyList<string> filters)
    {
        var values = FilterValues.Parse(filters, ["name", "label", "driver", "dangling"], (filter, key, value) =>
        {
            if (key == "dangling" && value is not ("true" or "false" or "1" or "0"))
                throw FilterValues.Invalid(filter);
        });
        var used = values.Has("dangling") ? _store.List().SelectMany(c => c.Config.Mounts).Where(m => m.Name is not null).Select(m => m.Name!).ToHashSet() : [];
        return [.. List().Where(volume => values.Match("name", part => volume.Name.Contains(part, StringComparison.Ordinal))
            && values.MatchLabels(volume.Labels)
            && values.Match("driver", driver => driver == "local")
            && values.Match("dangling", dangling => (dangling is "true" or "1") != used.Contains(volume.Name)))];
    }

    /// <summary>docker's document for one volume (serialize a list with <see cref="InspectJsonContext"/>).</summary>
    public VolumeInspect Inspect(string name) => VolumeInspect.From(Require(name), DataPath(name));

    private VolumeRecord Require(string name) => _store.GetVolume(name) ?? throw new EngineException(ErrorKind.NotFound, $"no such volume: {name}");

    /// <summary>Removes the volume; refused while a container (running or not) uses it, as docker does.</summary>
    public void Remove(string name)
    {
        Require(name);
        if (UsersOf(name).FirstOrDefault() is { } user)
            throw new EngineException(ErrorKind.FailedPrecondition, $"cannot remove volume {name}: it is in use by container {user.Name}; remove that container first");
        RemoveUnchecked(name);
    }

    /// <summary>
    /// Removes unused anonymous volumes, and with <paramref name="all"/> (or the filter all=true) unused named ones, that
    /// docker's <paramref name="filters"/> select (<see cref="PruneFilter"/>: label, label!); returns their names and the bytes they held.
    /// </summary>
    /// <exception cref="EngineException">InvalidArgument for a filter docker refuses (until among them).</exception>
    public PruneReport Prune(bool all = false, IReadOnlyList<string>? filters = null)
    {
        var filter = PruneFilter.Parse(filters ?? [], PruneFilter.VolumeKeys, DateTimeOffset.UtcNow);
        all |= filter.All;
        var used = _store.List().SelectMany(c => c.Config.Mounts).Where(m => m.Name is not null).Select(m => m.Name!).ToHashSet();
        var removed = new List<string>();
        long reclaimed = 0;
        foreach (var volume in List().Where(v => (all || v.Anonymous) && !used.Contains(v.Name) && filter.Matches(v.Created, v.Labels)))
        {
            reclaimed += Skiff.Storage.DirectoryUsage.Bytes(DataPath(volume.Name));
            RemoveUnchecked(volume.Name);
            removed.Add(volume.Name);
        }
        return new PruneReport(removed, reclaimed);
    }

    internal void RemoveUnchecked(string name)
    {
        // A container wrote this content: names may be any bytes.
        FileTree.Delete(Path.Combine(_options.VolumesDirectory, name));
        if (_store.DeleteVolume(name))
            RecordEvent(name, "destroy");
    }

    private void RecordEvent(string name, string action)
        => _events.TryRecord(EngineEvent.Now(EngineEvent.Volume, action, name, new Dictionary<string, string> { ["driver"] = "local" }));

    private IEnumerable<ContainerRecord> UsersOf(string name) => _store.List().Where(c => c.Config.Mounts.Any(m => m.Name == name));

    private static void Validate(string name) => Specs.MountRequest.ValidateVolumeName("volume", name, name);
}
