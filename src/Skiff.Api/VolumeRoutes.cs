using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Skiff.Engine;

namespace Skiff.Api;

/// <summary>/volumes: list, create, inspect, remove and prune, through the engine's volume service (which records their events).</summary>
internal sealed class VolumeRoutes(EngineHost engine)
{
    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/volumes", List);
        routes.MapPost("/volumes/create", Create);
        routes.MapPost("/volumes/prune", Prune);
        routes.MapGet("/volumes/{name}", Inspect);
        routes.MapDelete("/volumes/{name}", Remove);
    }

    private Task List(HttpContext context)
    {
        var volumes = engine.Volumes.List(Query.Filters(context)).Select(volume => engine.Volumes.Inspect(volume.Name)).ToList();
        return Json.WriteAsync(context, new VolumeList(volumes, []), ApiJsonContext.Default.VolumeList);
    }

    private async Task Create(HttpContext context)
    {
        var body = await Json.ReadAsync(context, ApiJsonContext.Default.VolumeCreateBody);
        var volume = engine.Volumes.Create(string.IsNullOrEmpty(body.Name) ? null : body.Name, body.Labels, body.Driver, body.DriverOpts);
        context.Response.StatusCode = StatusCodes.Status201Created;
        await Json.WriteAsync(context, engine.Volumes.Inspect(volume.Name), ApiJsonContext.Default.VolumeInspect);
    }

    private Task Inspect(HttpContext context)
        => Json.WriteAsync(context, engine.Volumes.Inspect(Query.Route(context, "name")), ApiJsonContext.Default.VolumeInspect);

    private Task Remove(HttpContext context)
    {
        engine.Volumes.Remove(Query.Route(context, "name"));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary>Before API 1.42 dockerd pruned named volumes too; from 1.42 only anonymous ones unless the filter all=true.</summary>
    private Task Prune(HttpContext context)
    {
        var report = engine.Volumes.Prune(all: !ApiVersions.AtLeast(context, "1.42"), filters: Query.Filters(context));
        return Json.WriteAsync(context, new VolumePruneResponse([.. report.Removed], report.ReclaimedBytes), ApiJsonContext.Default.VolumePruneResponse);
    }
}
