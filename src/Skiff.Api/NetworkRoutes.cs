using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Skiff.Engine;
using Skiff.Network;

namespace Skiff.Api;

/// <summary>/networks: list, inspect, create, remove, prune, connect and disconnect, through the engine's network use cases.</summary>
internal sealed class NetworkRoutes(EngineHost engine)
{
    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/networks", List);
        routes.MapPost("/networks/create", Create);
        routes.MapPost("/networks/prune", Prune);
        routes.MapGet("/networks/{id}", Inspect);
        routes.MapDelete("/networks/{id}", Remove);
        routes.MapPost("/networks/{id}/connect", Connect);
        routes.MapPost("/networks/{id}/disconnect", Disconnect);
    }

    private Task List(HttpContext context)
    {
        var networks = engine.Networks.List(Query.Filters(context)).Select(network => engine.Networks.Inspect(network.Id)).ToList();
        return Json.WriteAsync(context, networks, ApiJsonContext.Default.ListNetworkInspect);
    }

    private Task Inspect(HttpContext context)
        => Json.WriteAsync(context, engine.Networks.Inspect(Query.Route(context, "id"), Query.Bool(context, "verbose")), ApiJsonContext.Default.NetworkInspect);

    private async Task Create(HttpContext context)
    {
        var body = await Json.ReadAsync(context, ApiJsonContext.Default.NetworkCreateBody);
        if (string.IsNullOrEmpty(body.Name))
            throw ApiErrors.BadRequest("a network needs a Name");
        if (body.IPAM?.Driver is { Length: > 0 } ipamDriver && ipamDriver != "default")
            throw ApiErrors.BadRequest($"IPAM driver \"{ipamDriver}\" is not available: skiff has the default one only");
        var configs = body.IPAM?.Config ?? [];
        var network = engine.Networks.Create(new NetworkCreateRequest
        {
            Name = body.Name,
            Driver = string.IsNullOrEmpty(body.Driver) ? NetworkDrivers.Bridge : body.Driver,
            Subnets = Paired(configs, c => c.Subnet, "Subnet"),
            Gateways = Paired(configs, c => c.Gateway, "Gateway"),
            IpRanges = Paired(configs, c => c.IPRange, "IPRange"),
            Internal = body.Internal,
            EnableIPv6 = body.EnableIPv6,
            Options = body.Options ?? [],
            Labels = body.Labels ?? [],
        });
        context.Response.StatusCode = StatusCodes.Status201Created;
        await Json.WriteAsync(context, new NetworkCreateResponse(network.Id, ""), ApiJsonContext.Default.NetworkCreateResponse);
    }

    /// <summary>
    /// One field of the IPAM configs as the engine's list, which pairs them by position (as the CLI's flags): a config
    /// without it followed by one with it would pair a gateway or range with the wrong subnet, so it is refused.
    /// </summary>
    private static List<string> Paired(List<NetworkCreateIpamConfig> configs, Func<NetworkCreateIpamConfig, string?> field, string name)
    {
        var values = configs.Select(field).ToList();
        int firstMissing = values.FindIndex(string.IsNullOrEmpty);
        if (firstMissing >= 0 && values.Skip(firstMissing).Any(v => !string.IsNullOrEmpty(v)))
            throw ApiErrors.BadRequest($"IPAM config {firstMissing + 1} has no {name} while a later one has: give the configs with a {name} first");
        return [.. values.Where(v => !string.IsNullOrEmpty(v)).Select(v => v!)];
    }

    private Task Remove(HttpContext context)
    {
        engine.Networks.Remove(Query.Route(context, "id"));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private Task Prune(HttpContext context)
        => Json.WriteAsync(context, new NetworkPruneResponse([.. engine.Networks.Prune(Query.Filters(context))]), ApiJsonContext.Default.NetworkPruneResponse);

    private async Task Connect(HttpContext context)
    {
        var body = await Json.ReadAsync(context, ApiJsonContext.Default.NetworkConnectBody);
        engine.Networks.Connect(Query.Route(context, "id"), Container(body), new ConnectRequest
        {
            Aliases = body.EndpointConfig?.Aliases ?? [],
            IPv4Address = NullIfEmpty(body.EndpointConfig?.IPAMConfig?.IPv4Address),
            IPv6Address = NullIfEmpty(body.EndpointConfig?.IPAMConfig?.IPv6Address),
        });
    }

    private async Task Disconnect(HttpContext context)
    {
        var body = await Json.ReadAsync(context, ApiJsonContext.Default.NetworkConnectBody);
        engine.Networks.Disconnect(Query.Route(context, "id"), Container(body), body.Force);
    }

    private static string Container(NetworkConnectBody body)
        => string.IsNullOrEmpty(body.Container) ? throw ApiErrors.BadRequest("name the Container to connect or disconnect") : body.Container;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
