using System.Text.Json;
using Skiff.Cli.Templates;
using Skiff.Engine;
using Skiff.Network;

namespace Skiff.Cli.Commands;

/// <summary>`skiff network ...`: bridge networks (docker's model) and CNI networks.</summary>
internal static class NetworkCommands
{
    public static readonly CliCommand Create = new(
        "network create", "NAME", "Create a network.",
        [
            new("driver", 'd', TakesValue: true, Help: "bridge (default) or cni"),
            new("subnet", TakesValue: true, Repeatable: true, Help: "subnet in CIDR form (one IPv4, one IPv6)"),
            new("gateway", TakesValue: true, Repeatable: true, Help: "gateway of a subnet (default: its first address)"),
            new("ip-range", TakesValue: true, Repeatable: true, Help: "part of a subnet that container addresses come from"),
            new("internal", Help: "no traffic in or out of the network beyond its containers"),
            new("ipv6", Help: "give containers IPv6 addresses too (a unique local /64 when no IPv6 subnet is given)"),
            new("opt", 'o', TakesValue: true, Repeatable: true, Help: "driver option: com.docker.network.bridge.name=NAME, mtu=N (com.docker.network.driver.mtu=N)"),
            new("label", TakesValue: true, Repeatable: true, Help: "label KEY=VALUE"),
            new("cni-config", TakesValue: true, Help: "the CNI configuration list (.conflist) of a cni network"),
            CliCommand.Help,
        ],
        (context, args) =>
        {
            var network = context.Engine.Networks.Create(new NetworkCreateRequest
            {
                Name = args.Positionals[0],
                Driver = args.Value("driver") ?? NetworkDrivers.Bridge,
                Subnets = args.Values("subnet"),
                Gateways = args.Values("gateway"),
                IpRanges = args.Values("ip-range"),
                Internal = args.Bool("internal"),
                EnableIPv6 = args.Bool("ipv6"),
                Options = Pairs(args.Values("opt")),
                Labels = Pairs(args.Values("label")),
                CniConfig = args.Value("cni-config") is { } file ? ReadConfig(file) : null,
                CniConfigSource = args.Value("cni-config"),
            });
            context.Out.WriteLine(network.Id);
            return 0;
        },
        MinPositionals: 1, MaxPositionals: 1);

    private static string ReadConfig(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailure(ErrorKinds.Of(e), $"cannot read the CNI configuration list {file}: {e.Message}");
        }
    }

    private static Dictionary<string, string> Pairs(IReadOnlyList<string> values)
        => values.Select(value => value.Split('=', 2)).GroupBy(pair => pair[0]).ToDictionary(g => g.Key, g => g.Last().Length > 1 ? g.Last()[1] : "");

    public static readonly CliCommand List = new(
        "network ls", "", "List networks.",
        [
            new("quiet", 'q', Help: "print only IDs"),
            new("no-trunc", Help: "full IDs"),
            new("filter", 'f', TakesValue: true, Repeatable: true, Help: "driver=, id=, label=, name=, scope=, type=custom|builtin, dangling=true|false"),
            new("format", TakesValue: true, Help: "table (default), json, or a Go template such as '{{.Name}}'"),
            CliCommand.Help,
        ],
        (context, args) =>
        {
            var networks = context.Engine.Networks.List(args.Values("filter"));
            bool full = args.Bool("no-trunc");
            if (args.Bool("quiet"))
            {
                foreach (var network in networks)
                    context.Out.WriteLine(full ? network.Id : network.ShortId);
                return 0;
            }
            var format = Output.ParseRows(args.Value("format") ?? "table", "table {{.ID}}\\t{{.Name}}\\t{{.Driver}}\\t{{.Scope}}");
            Output.Rows(context.Out, format, Header, networks.Select(n => Row(n, full)));
            return 0;
        },
        Aliases: ["network list"]);

    private const string RowType = "*formatter.networkContext";

    /// <summary>The column titles of docker's network formatter.</summary>
    private static TemplateRow Header => new(RowType, new Dictionary<string, object?>
    {
        ["ID"] = "NETWORK ID", ["Name"] = "NAME", ["Driver"] = "DRIVER", ["Scope"] = "SCOPE", ["IPv6"] = "IPV6", ["Internal"] = "INTERNAL",
        ["Labels"] = "LABELS", ["CreatedAt"] = "CREATED AT",
    }, new Dictionary<string, string>());

    /// <summary>A network as docker's `network ls` templates see it.</summary>
    private static TemplateRow Row(NetworkDefinition network, bool full) => new(RowType, new Dictionary<string, object?>
    {
        ["ID"] = full ? network.Id : network.ShortId, ["Name"] = network.Name, ["Driver"] = network.Driver, ["Scope"] = "local",
        ["IPv6"] = network.EnableIPv6 ? "true" : "false", ["Internal"] = network.Internal ? "true" : "false",
        ["Labels"] = string.Join(',', network.Labels.Select(label => $"{label.Key}={label.Value}")),
        ["CreatedAt"] = Output.GoTime(network.Created),
    }, network.Labels);

    public static readonly CliCommand Inspect = new(
        "network inspect", "NETWORK [NETWORK...]", "Show networks (JSON), in docker's shape.",
        [new("format", 'f', TakesValue: true, Help: "json, or a Go template such as '{{.IPAM.Config}}'"), new("verbose", 'v', Help: "for a CNI network, run its plugins' CHECK for each container on it and show the outcome (CniCheck)"), CliCommand.Help],
        (context, args) => InspectCommand.Print(context, args,
            name => JsonSerializer.SerializeToElement(context.Engine.Networks.Inspect(name, args.Bool("verbose")), InspectJsonContext.Default.NetworkInspect)),
        MinPositionals: 1, MaxPositionals: -1);

    public static readonly CliCommand Remove = new(
        "network rm", "NETWORK [NETWORK...]", "Remove networks no running container uses.",
        [new("force", 'f', Help: "no error for a network that does not exist"), CliCommand.Help],
        (context, args) =>
        {
            int status = 0;
            foreach (var name in args.Positionals)
            {
                try
                {
                    context.Engine.Networks.Remove(name);
                    context.Out.WriteLine(name);
                }
                catch (Exception error) when (ErrorKinds.IsExpected(error) && !(args.Bool("force") && ErrorKinds.Of(error) == ErrorKind.NotFound))
                {
                    status = Program.Report(error);
                }
                catch (Exception error) when (ErrorKinds.Of(error) == ErrorKind.NotFound)
                {
                    // --force: gone already is what was asked for
                }
            }
            return status;
        },
        MinPositionals: 1, MaxPositionals: -1, Aliases: ["network remove"]);

    public static readonly CliCommand Prune = new(
        "network prune", "", "Remove every user network no container is attached to.",
        [new("force", 'f', Help: "do not ask (skiff never asks)"), PruneCommand.FilterFlag("until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE]"), CliCommand.Help],
        (context, args) =>
        {
            var removed = context.Engine.Networks.Prune(args.Values("filter"));
            if (removed.Count > 0)
            {
                context.Out.WriteLine("Deleted Networks:");
                foreach (var name in removed)
                    context.Out.WriteLine(name);
            }
            return 0;
        });

    public static readonly CliCommand Connect = new(
        "network connect", "NETWORK CONTAINER", "Connect a container to a network (at once when it runs).",
        [
            new("alias", TakesValue: true, Repeatable: true, Help: "a name the container is found by on the network"),
            new("ip", TakesValue: true, Help: "IPv4 address on the network"),
            new("ip6", TakesValue: true, Help: "IPv6 address on the network"),
            CliCommand.Help,
        ],
        (context, args) =>
        {
            context.Engine.Networks.Connect(args.Positionals[0], args.Positionals[1], new ConnectRequest
            {
                Aliases = args.Values("alias"),
                IPv4Address = args.Value("ip"),
                IPv6Address = args.Value("ip6"),
            });
            return 0;
        },
        MinPositionals: 2, MaxPositionals: 2);

    public static readonly CliCommand Disconnect = new(
        "network disconnect", "NETWORK CONTAINER", "Disconnect a container from a network (at once when it runs).",
        [new("force", 'f', Help: "no error when it is not connected"), CliCommand.Help],
        (context, args) =>
        {
            context.Engine.Networks.Disconnect(args.Positionals[0], args.Positionals[1], args.Bool("force"));
            return 0;
        },
        MinPositionals: 2, MaxPositionals: 2);
}
