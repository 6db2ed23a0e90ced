using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Builder;
using Skiff.Engine;

namespace Skiff.Api;

/// <summary>/_ping, /version and /info: what docker's clients ask first, to negotiate the version and learn the engine.</summary>
internal sealed class SystemRoutes(EngineHost engine)
{
    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapMethods("/_ping", [HttpMethods.Get, HttpMethods.Head], Ping);
        routes.MapGet("/version", Version);
        routes.MapGet("/info", context => Json.WriteAsync(context, engine.System.Info(), ApiJsonContext.Default.SystemInfo));
    }

    /// <summary>dockerd's ping: the newest version served (the client uses the lower of it and its own), the OS and the builder.</summary>
    private static Task Ping(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers["API-Version"] = ApiVersions.Maximum;
        headers["OSType"] = "linux";
        headers["Builder-Version"] = "1";
        headers["Docker-Experimental"] = "false";
        headers.CacheControl = "no-cache, no-store, must-revalidate";
        headers.Pragma = "no-cache";
        context.Response.ContentType = "text/plain; charset=utf-8";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.ContentLength = 0;
            return Task.CompletedTask;
        }
        return context.Response.WriteAsync("OK");
    }

    private static Task Version(HttpContext context)
    {
        var engine = SystemService.Version();
        var details = new Dictionary<string, string>
        {
            ["ApiVersion"] = ApiVersions.Maximum,
            ["MinAPIVersion"] = ApiVersions.Minimum,
            ["Os"] = engine.Os,
            ["Arch"] = engine.Arch,
            ["KernelVersion"] = engine.KernelVersion,
        };
        return Json.WriteAsync(context, new SystemVersion
        {
            Platform = new VersionPlatform("Skiff Engine"),
            Components = [new VersionComponent("Engine", engine.Version, details)],
            Version = engine.Version,
            ApiVersion = ApiVersions.Maximum,
            MinAPIVersion = ApiVersions.Minimum,
            // docker's clients show it as "Go version": the runtime that serves here.
            GoVersion = RuntimeInformation.FrameworkDescription,
            Os = engine.Os,
            Arch = engine.Arch,
            KernelVersion = engine.KernelVersion,
        }, ApiJsonContext.Default.SystemVersion);
    }
}
