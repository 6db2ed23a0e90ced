using System.Runtime.CompilerServices;
using System.Text.Json;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Interop;
using Skiff.Network;

namespace Skiff.Engine;

/// <summary>
/// What the engine tells about containers without changing them: the list, one container, docker's inspect document,
/// its processes and its logs. States are checked against the processes (<see cref="ContainerContext.Reconcile"/>).
/// </summary>
public sealed class ContainerQueries
{
    private readonly ContainerContext _context;
    private readonly FilterLookups _lookups;

    /// <param name="imageAndDescendants">For the ancestor filter: an image's ID and those of the images made from it.</param>
    internal ContainerQueries(ContainerContext context, Func<string, IReadOnlySet<string>> imageAndDescendants)
    {
        _context = context;
        _lookups = new FilterLookups(context.Require, imageAndDescendants);
    }

    /// <summary>Newest first: the active containers, or every one with <paramref name="all"/> (or a filter that implies it), that docker's <paramref name="filters"/> select (<see cref="ContainerFilter"/>).</summary>
    /// <exception cref="EngineException">InvalidArgument for a filter docker refuses; NotFound for a before or since container that does not exist.</exception>
    public IReadOnlyList<ContainerRecord> List(bool all = false, IReadOnlyList<string>? filters = null)
    {
        var filter = ContainerFilter.Parse(filters ?? [], _lookups);
        return _context.Store.List().Select(_context.Reconcile)
            .Where(c => all || ContainerContext.IsActive(c.State.Status) || filter.ImpliesAll)
            .Where(filter.Matches)
            .ToList();
    }

    /// <summary>The container with this id, id prefix or name.</summary>
    /// <exception cref="EngineException">NotFound.</exception>
    public ContainerRecord Get(string idOrName) => _context.Reconcile(_context.Require(idOrName));

    /// <summary>docker's document for one container (serialize a list with <see cref="InspectJsonContext"/>).</summary>
    /// <exception cref="EngineException">NotFound.</exception>
    public ContainerInspect Inspect(string idOrName)
    {
        var container = Get(idOrName);
        var networks = _context.Networks;
        var endpoints = container.Config.Options.Network == NetworkMode.Bridge ? networks.Store.EndpointsOf(container.Id) : [];
        var settings = InspectNetworkSettings.From(container, endpoints, networks.Store.Find, networks.NamespacePath(container.Id));
        return ContainerInspect.From(container, _context.DirectoryOf(container.Id).Log, settings);
    }

    /// <summary>
    /// The published ports of each running container given, as `port` and ps's PORTS show them (empty for the
    /// others); the network store is opened only when one of them has ports of its own.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<PortBinding>> PublishedPorts(IEnumerable<ContainerRecord> containers)
    {
        var result = new Dictionary<string, IReadOnlyList<PortBinding>>();
        foreach (var container in containers)
        {
            if (container.Config.Options.Network != NetworkMode.Bridge || !ContainerContext.IsActive(container.State.Status))
                continue;
            result[container.Id] = [.. _context.Networks.Store.EndpointsOf(container.Id).SelectMany(e => e.Ports)];
        }
        return result;
    }

    /// <summary>The container's processes (from the runtime's ps), with their parent, uid and command line.</summary>
    /// <exception cref="EngineException">NotFound; FailedPrecondition when it is not running.</exception>
    public IReadOnlyList<ContainerProcess> Top(string idOrName)
    {
        var container = Get(idOrName);
        if (container.State.Status is not (ContainerStatus.Running or ContainerStatus.Paused))
            throw new EngineException(ErrorKind.FailedPrecondition, $"container {container.Name} is not running");
        var result = _context.RuntimeOf(container).Run("ps", "--format", "json", container.Id);
        if (result.ExitCode != 0)
            throw new EngineException(ErrorKind.Internal, $"cannot list the processes of container {container.Name}: {result.Error}");
        var processes = new List<ContainerProcess>();
        foreach (var pid in JsonSerializer.Deserialize(result.Stdout, EngineJsonContext.Default.ListInt32) ?? [])
        {
            try
            {
                var stat = SmallFile.ReadAllText($"/proc/{pid}/stat");
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                var status = SmallFile.ReadAllText($"/proc/{pid}/status");
                var uid = uint.Parse(status.Split('\n').First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);
                var command = SmallFile.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Replace('\0', ' ');
                processes.Add(new ContainerProcess(pid, parent, uid, command));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // exited since the runtime listed it
            }
        }
        return processes;
    }

    /// <summary>
    /// The json-file log's entries, rotated files first. With <see cref="LogsRequest.Follow"/>, new entries follow
    /// (across rotations) until the container stops or <paramref name="cancel"/> fires. Without it, the enumeration
    /// completes synchronously.
    /// </summary>
    /// <exception cref="EngineException">NotFound (on the first MoveNextAsync).</exception>
    public async IAsyncEnumerable<LogEntry> Logs(string idOrName, LogsRequest request, [EnumeratorCancellation] CancellationToken cancel = default)
    {
        var container = _context.Require(idOrName);
        if (container.Config.Log.Driver == LogOptions.None)
            throw new EngineException(ErrorKind.FailedPrecondition, $"container {container.Name} keeps no logs: its log driver is none");
        var entries = JsonFileLogReader.Read(_context.DirectoryOf(container.Id).Log, container.Config.Log.MaxFiles, request,
            () => _context.Store.Get(container.Id) is { } latest && _context.Reconcile(latest).State is var state
                && (ContainerContext.IsActive(state.Status) || (state.Status == ContainerStatus.Created && ContainerContext.MonitorAlive(container with { State = state }))),
            cancel);
        await foreach (var entry in entries)
            yield return entry;
    }

    /// <summary>Transitional, until the archive service has them: see <see cref="ContainerFiles.Open"/>.</summary>
    public ContainerFiles OpenFiles(string idOrName) => ContainerFiles.Open(_context, Get(idOrName));

    /// <summary>Transitional, until the archive service has them: see <see cref="ContainerFiles.EngineMountTargets"/>.</summary>
    public IReadOnlyList<string> EngineMountTargets(ContainerRecord container) => ContainerFiles.EngineMountTargets(_context, container);

    /// <summary>Transitional, until the stats service has them: see <see cref="ContainerStatsSample.Read"/>.</summary>
    public ContainerStatsSample SampleStats(string idOrName) => ContainerStatsSample.Read(_context, Get(idOrName));
}
