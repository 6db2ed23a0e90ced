using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Skiff.Engine;

namespace Skiff.Api;

/// <summary>
/// The Docker Engine API over one <see cref="EngineHost"/>: Kestrel from the slim builder, routes as plain request
/// delegates (nothing bound by reflection), and three steps before them: the idle clock, the version prefix and the
/// one mapping of errors.
/// </summary>
internal static class ApiServer
{
    public static WebApplication Build(EngineHost engine, ServiceAddress address, IdleClock idle, ILoggerProvider logging)
    {
        var containers = new ContainerRoutes(engine, new ContainerRuns());
        var hijacked = new HijackedConnections(containers, idle);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logging);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // An attach upgraded through Kestrel copies the monitor's output on a thread of its own, with the engine's synchronous session.
            kestrel.AllowSynchronousIO = true;
            Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> hijack = listen => listen.Use(next => connection => hijacked.Handle(connection, next));
            if (address.SocketPath is { } path)
                kestrel.ListenUnixSocket(path, hijack);
            else
                kestrel.Listen(address.Tcp!, hijack);
        });
        var app = builder.Build();
        app.Use((context, next) => idle.Track(() => next(context)));
        app.Use(VersionPrefix);
        app.Use(Errors);
        app.UseRouting();
        new SystemRoutes(engine).Map(app);
        containers.Map(app);
        new ImageRoutes(engine).Map(app);
        new VolumeRoutes(engine).Map(app);
        new NetworkRoutes(engine).Map(app);
        app.UseEndpoints(_ => { });
        app.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return ApiErrors.WriteMessageAsync(context, $"page not found: {context.Request.Method} {context.Request.Path}");
        });
        return app;
    }

    /// <summary>`/vX.Y/...` is routed as `/...`, with the version kept for the handlers; one not served is a 400, as dockerd's.</summary>
    private static Task VersionPrefix(HttpContext context, Func<Task> next)
    {
        var (version, path) = ApiVersions.Split(context.Request.Path.Value ?? "/");
        if (version is null)
            return next();
        if (ApiVersions.Refusal(version) is { } refusal)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return ApiErrors.WriteMessageAsync(context, refusal);
        }
        context.Items[typeof(ApiVersions)] = version;
        context.Request.Path = path;
        return next();
    }

    private static async Task Errors(HttpContext context, Func<Task> next)
    {
        try
        {
            await next();
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away: nobody to answer
        }
        catch (Exception error)
        {
            if (!ErrorKinds.IsExpected(error))
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Skiff.Api").LogError(error, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await ApiErrors.WriteAsync(context, error);
        }
    }
}
