using System.Text.RegularExpressions;
using Skiff.Engine.Specs;

namespace Skiff.Engine.Containers;

/// <summary>
/// What filters naming other objects need from the engine: a container by ID, ID prefix or name (throwing NotFound),
/// and the IDs of an image and of the images made from it (empty when there is no such image).
/// </summary>
internal sealed record FilterLookups(Func<string, ContainerRecord> Container, Func<string, IReadOnlySet<string>> ImageAndDescendants)
{
    public static readonly FilterLookups None = new(
        name => throw new EngineException(ErrorKind.NotFound, $"no such container: {name}"),
        _ => new HashSet<string>());
}

/// <summary>
/// `ps --filter KEY=VALUE` with docker's keys: id and name (regular expressions, as docker's: `name=^web` matches
/// with or without the leading slash), label (KEY or KEY=VALUE), exited (code of a container that ran), status,
/// ancestor (the image or one made from it), before and since (a container), volume (name or mount destination),
/// network (none or host), publish and expose (ports: none are published here, so they match nothing), is-task
/// (no container is a swarm task), isolation (every container has Linux's only one, default), health (starting,
/// healthy, unhealthy, or none without a check). ANDed across keys, ORed within one.
/// </summary>
public sealed class ContainerFilter
{
    private static readonly string[] Keys =
        ["id", "name", "status", "label", "exited", "ancestor", "before", "since", "volume", "network", "publish", "expose", "is-task", "isolation", "health"];

    /// <summary>docker's states; removing and dead are states skiff never puts a container in.</summary>
    private static readonly string[] States = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    private readonly FilterValues _values;
    private readonly ContainerRecord? _before;
    private readonly ContainerRecord? _since;
    private readonly HashSet<string>? _ancestors;

    private ContainerFilter(FilterValues values, FilterLookups lookups)
    {
        _values = values;
        // docker takes the last before and since given.
        if (values.Values("before").LastOrDefault() is { } before)
            _before = lookups.Container(before);
        if (values.Values("since").LastOrDefault() is { } since)
            _since = lookups.Container(since);
        if (values.Has("ancestor"))
            _ancestors = values.Values("ancestor").SelectMany(lookups.ImageAndDescendants).ToHashSet(StringComparer.Ordinal);
    }

    /// <exception cref="EngineException">InvalidArgument for a filter docker refuses; NotFound for a before or since container that does not exist.</exception>
    public static ContainerFilter Parse(IReadOnlyList<string> filters) => Parse(filters, FilterLookups.None);

    internal static ContainerFilter Parse(IReadOnlyList<string> filters, FilterLookups lookups) => new(FilterValues.Parse(filters, Keys, (filter, key, value) =>
    {
        bool valid = key switch
        {
            "status" => States.Contains(value),
            "exited" => int.TryParse(value, out _),
            "is-task" => value is "true" or "false",
            "isolation" => value is "default" or "process" or "hyperv",
            "health" => value is "starting" or "healthy" or "unhealthy" or "none",
            "publish" or "expose" => IsPortFilter(value),
            _ => true,
        };
        if (!valid)
            throw FilterValues.Invalid(filter);
    }), lookups);

    /// <summary>Stopped containers are listed without -a when a filter asks for them by state or by order, as docker does.</summary>
    public bool ImpliesAll => _values.Has("status") || _values.Has("exited") || _before is not null || _since is not null;

    public bool Matches(ContainerRecord container)
        => _values.Match("id", v => IsMatch(v, container.Id))
        && _values.Match("name", v => IsMatch(v, "/" + container.Name) || IsMatch(v, container.Name))
        && _values.Match("status", v => container.State.Status.ToString().Equals(v, StringComparison.OrdinalIgnoreCase))
        && _values.Match("exited", v => container.State.Status == ContainerStatus.Exited && container.State.StartedAt is not null && container.State.ExitCode == int.Parse(v))
        && _values.MatchLabels(container.Config.Labels)
        && (_ancestors is null || _ancestors.Contains(container.ImageId))
        && (_before is null || Older(container, _before))
        && (_since is null || Older(_since, container))
        && _values.Match("volume", v => container.Config.Mounts.Any(m => m.Destination == v || (m.Name ?? m.Source) == v))
        && _values.Match("network", v => NetworkNames(container.Config.Options).Contains(v))
        && _values.Match("publish", v => PortMatches(v, container.Config.Options.Ports.Select(p => p.Key)))
        && _values.Match("expose", v => PortMatches(v, container.Config.ExposedPorts))
        && _values.Match("is-task", v => v == "false")
        && _values.Match("isolation", v => v == "default")
        && _values.Match("health", v => Healthchecks.FilterName(container.State.Health) == v);

    /// <summary>The names and ids a network filter matches a container by: its networks', or its mode's name.</summary>
    private static IEnumerable<string> NetworkNames(RunOptions options)
        => options.Attachments.Count > 0 ? options.Attachments.SelectMany(a => new[] { a.NetworkName, a.NetworkId }) : [ContainerInspect.NetworkModeName(options)];

    /// <summary>docker's publish/expose filter value (80, 80/udp, 8000-8080/tcp) against ports keyed as 80/tcp.</summary>
    private static bool PortMatches(string filter, IEnumerable<string> keys)
    {
        var requested = Skiff.Network.PortSpecs.ParseExpose(filter);
        return keys.Any(key => requested.Any(r => key == $"{r.Port}/{r.Protocol}"));
    }

    /// <summary>In the list's order (created, newest first, then ID): <paramref name="a"/> was created before <paramref name="b"/>.</summary>
    private static bool Older(ContainerRecord a, ContainerRecord b)
        => a.Created < b.Created || (a.Created == b.Created && string.CompareOrdinal(a.Id, b.Id) > 0);

    /// <summary>docker's filters.Match: the exact value, or an unanchored regular expression (a bad one matches nothing).</summary>
    private static bool IsMatch(string pattern, string value)
    {
        if (pattern == value)
            return true;
        try
        {
            return Regex.IsMatch(value, pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>docker's port filter values: PORT or START-END, optionally /tcp, /udp or /sctp.</summary>
    private static bool IsPortFilter(string value)
    {
        var slash = value.IndexOf('/');
        var (range, protocol) = slash < 0 ? (value, "tcp") : (value[..slash], value[(slash + 1)..]);
        if (protocol is not ("tcp" or "udp" or "sctp"))
            return false;
        var dash = range.IndexOf('-');
        var (first, last) = dash < 0 ? (range, range) : (range[..dash], range[(dash + 1)..]);
        return ushort.TryParse(first, out var start) && ushort.TryParse(last, out var end) && start > 0 && start <= end;
    }
}
