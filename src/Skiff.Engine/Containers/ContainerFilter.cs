namespace Skiff.Engine.Containers;

/// <summary>`ps --filter KEY=VALUE`: id (prefix), name (substring), status, label (KEY or KEY=VALUE), exited (code), health; ANDed across keys, ORed within one.</summary>
public sealed class ContainerFilter
{
    private static readonly string[] Keys = ["id", "name", "status", "label", "exited", "health"];
    private readonly FilterValues _values;

    private ContainerFilter(FilterValues values) => _values = values;

    public static ContainerFilter Parse(IReadOnlyList<string> filters) => new(FilterValues.Parse(filters, Keys, (filter, key, value) =>
    {
        if (key == "status" && !Enum.TryParse<ContainerStatus>(value, ignoreCase: true, out _))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter \"{filter}\": status is one of created, running, paused, restarting, exited");
        if (key == "exited" && !int.TryParse(value, out _))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter \"{filter}\": exited takes an exit code");
        if (key == "health" && value is not ("starting" or "healthy" or "unhealthy" or "none"))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter \"{filter}\": health is one of starting, healthy, unhealthy, none");
    }));

    /// <summary>A status or exited filter lists stopped containers without -a, as docker does.</summary>
    public bool ImpliesAll => _values.Has("status") || _values.Has("exited");

    public bool Matches(ContainerRecord container)
        => _values.Match("id", v => container.Id.StartsWith(v, StringComparison.Ordinal))
        && _values.Match("name", v => container.Name.Contains(v.TrimStart('/'), StringComparison.Ordinal))
        && _values.Match("status", v => container.State.Status.ToString().Equals(v, StringComparison.OrdinalIgnoreCase))
        && _values.Match("exited", v => container.State.Status == ContainerStatus.Exited && container.State.ExitCode == int.Parse(v))
        && _values.Match("label", v => FilterValues.HasLabel(container.Config.Labels, v))
        && _values.Match("health", v => Healthchecks.FilterName(container.State.Health) == v);
}
