using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Monitor;
using Skiff.Engine.Specs;

namespace Skiff.Api;

/// <summary>/containers: each endpoint calls the engine service the CLI command of the same name calls.</summary>
internal sealed class ContainerRoutes(EngineHost engine, ContainerRuns runs)
{
    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/containers/json", List);
        routes.MapPost("/containers/create", Create);
        routes.MapGet("/containers/{id}/json", Inspect);
        routes.MapPost("/containers/{id}/start", Start);
        routes.MapPost("/containers/{id}/wait", Wait);
        routes.MapPost("/containers/{id}/attach", Attach);
        routes.MapPost("/containers/{id}/stop", Stop);
        routes.MapPost("/containers/{id}/restart", Restart);
        routes.MapPost("/containers/{id}/kill", Kill);
        routes.MapGet("/containers/{id}/logs", Logs);
        routes.MapDelete("/containers/{id}", Remove);
    }

    private async Task List(HttpContext context)
    {
        var containers = engine.ContainerQueries.List(Query.Bool(context, "all"), Query.Filters(context));
        if (Query.Int(context, "limit") is > 0 and var limit)
            containers = containers.Take(limit).ToList();
        var ports = engine.ContainerQueries.PublishedPorts(containers);
        var now = DateTimeOffset.UtcNow;
        var summaries = containers.Select(c => new ContainerSummary
        {
            Id = c.Id,
            Names = ["/" + c.Name],
            Image = c.Image,
            ImageID = c.ImageId,
            Command = string.Join(' ', c.Config.Entrypoint.Concat(c.Config.Cmd)),
            Created = c.Created.ToUnixTimeSeconds(),
            Ports = ports.GetValueOrDefault(c.Id)?.Select(p => new SummaryPort(p.HostIp.Length > 0 ? p.HostIp : "0.0.0.0", p.ContainerPort, p.HostPort, p.Protocol)).ToList() ?? [],
            Labels = c.Config.Labels,
            State = c.State.Status.ToString().ToLowerInvariant(),
            Status = ContainerDisplay.Status(c, now),
            HostConfig = new SummaryHostConfig(ContainerInspect.NetworkModeName(c.Config.Options)),
            NetworkSettings = new SummaryNetworkSettings(c.Config.Options.Attachments.ToDictionary(a => a.NetworkName, a => new InspectEndpoint { NetworkID = a.NetworkId, Aliases = a.Aliases })),
            Mounts = [],
        }).ToList();
        await Json.WriteAsync(context, summaries, ApiJsonContext.Default.ListContainerSummary);
    }

    private async Task Create(HttpContext context)
    {
        var body = await Json.ReadAsync(context, ApiJsonContext.Default.ContainerCreateBody);
        var request = ContainerCreateMapping.Request(body, Query.String(context, "name"));
        var resolved = await engine.RunPolicy.ResolveAsync(request, cancellationToken: context.RequestAborted);
        var container = engine.ContainerCreation.Create(resolved);
        context.Response.StatusCode = StatusCodes.Status201Created;
        await Json.WriteAsync(context, new ContainerCreateResponse(container.Id, []), ApiJsonContext.Default.ContainerCreateResponse);
    }

    private Task Inspect(HttpContext context)
        => Json.WriteAsync(context, engine.ContainerQueries.Inspect(Query.Route(context, "id")), ApiJsonContext.Default.ContainerInspect);

    /// <summary>
    /// Starts the container; when a client attached before (docker run) or waits for its next exit, through a
    /// session connected before the program runs (<see cref="ContainerRuns"/>). 304 when it runs already, as dockerd.
    /// </summary>
    private async Task Start(HttpContext context)
    {
        var container = engine.ContainerQueries.Get(Query.Route(context, "id"));
        if (container.State.Status is ContainerStatus.Running or ContainerStatus.Restarting)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        var (attaches, waited) = runs.TakeForStart(container.Id);
        if (attaches.Count == 0 && !waited)
        {
            engine.Containers.Start(container.Id);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        AttachSession? session;
        try
        {
            session = engine.Containers.Start(container.Id, attach: true);
        }
        catch (Exception error)
        {
            foreach (var attach in attaches)
                attach.Session.TrySetException(error);
            runs.PublishExit(container.Id, null);
            throw;
        }
        if (session is null)
        {
            // Started by another client meanwhile: the attaches follow it as a running container's.
            runs.PublishExit(container.Id, null);
            foreach (var attach in attaches)
                attach.Session.TrySetException(new EngineException(ErrorKind.Conflict, $"container {container.Name} was started by another client meanwhile: attach again"));
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        if (attaches.Count == 0)
            _ = Task.Factory.StartNew(() => runs.PublishExit(container.Id, session.CopyOutput(Stream.Null, Stream.Null) ?? ExitAfterSessionLost(container.Id)),
                TaskCreationOptions.LongRunning).ContinueWith(_ => session.Dispose(), TaskScheduler.Default);
        else
        {
            attaches[0].Session.TrySetResult(session);
            foreach (var other in attaches.Skip(1))
                other.Session.TrySetException(new EngineException(ErrorKind.Conflict, $"container {container.Name} has another client attached from before its start: attach again now that it runs"));
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        await Task.CompletedTask;
    }

    /// <summary>The exit status when the session ended without one (the monitor died): the engine's recorded status.</summary>
    private int ExitAfterSessionLost(string id) => engine.Containers.WaitAsync(id).GetAwaiter().GetResult();

    /// <summary>
    /// docker's wait: the 200 and its headers go out at once (docker's client starts the container only once the
    /// wait is registered), the status when the condition is met.
    /// </summary>
    private async Task Wait(HttpContext context)
    {
        var container = engine.ContainerQueries.Get(Query.Route(context, "id"));
        string condition = Query.String(context, "condition") ?? "not-running";
        if (condition is not ("not-running" or "next-exit" or "removed"))
            throw ApiErrors.BadRequest($"invalid condition \"{condition}\": expected not-running, next-exit or removed");
        var cancel = context.RequestAborted;
        var next = condition == "not-running" ? null : runs.AddWait(container.Id);
        try
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(cancel);
            await context.Response.Body.FlushAsync(cancel);
            int status = await ExitStatusAsync(container, next, cancel);
            if (condition == "removed")
                await GoneAsync(container.Id, cancel);
            await JsonSerializer.SerializeAsync(context.Response.Body, new ContainerWaitResponse(status, null), ApiJsonContext.Default.ContainerWaitResponse, cancel);
        }
        finally
        {
            if (next is not null)
                runs.RemoveWait(container.Id, next);
        }
    }

    private async Task<int> ExitStatusAsync(ContainerRecord container, TaskCompletionSource<int>? next, CancellationToken cancel)
    {
        bool active = container.State.Status is ContainerStatus.Running or ContainerStatus.Paused or ContainerStatus.Restarting;
        if (next is null || active)
            return active ? await engine.Containers.WaitAsync(container.Id, cancel) : container.State.ExitCode;
        // A created or exited container: its next run's exit, published by a start here, else (started by another
        // client, the CLI on the same store) the engine's wait once it runs.
        while (true)
        {
            if (await Task.WhenAny(next.Task, Task.Delay(200, cancel)) == next.Task)
                return await next.Task;
            cancel.ThrowIfCancellationRequested();
            if (!runs.StartedHere(container.Id) && engine.ContainerQueries.Get(container.Id).State.Status is ContainerStatus.Running)
                return await engine.Containers.WaitAsync(container.Id, cancel);
        }
    }

    /// <summary>Until the container is removed (by its monitor with AutoRemove, or by a client).</summary>
    private async Task GoneAsync(string id, CancellationToken cancel)
    {
        while (engine.ContainerQueries.List(all: true, [$"id={id}"]).Count > 0)
            await Task.Delay(50, cancel);
    }

    /// <summary>
    /// docker's hijacked attach: `Upgrade: tcp` gets a 101 and the connection becomes the container's stdio, output in
    /// stdcopy frames (raw with a terminal), stdin from the client until it half-closes. A created container's attach
    /// waits for its start (docker run attaches first); a running one's is a new session on its monitor.
    /// </summary>
    /// <summary>
    /// An attach that was not its connection's first request, so not taken by <see cref="HijackedConnections"/>:
    /// upgraded through Kestrel, which serves it while the client does not half-close.
    /// </summary>
    private Task Attach(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true } upgrade)
            throw ApiErrors.BadRequest("attach needs a connection upgrade: send the request with the headers Connection: Upgrade and Upgrade: tcp");
        return AttachAsync(Query.Route(context, "id"), context.Request.Query, async () =>
        {
            context.Response.Headers.ContentType = "application/vnd.docker.raw-stream";
            context.Response.Headers.Upgrade = "tcp";
            var connection = await upgrade.UpgradeAsync();
            return (connection, connection);
        });
    }

    /// <summary>
    /// The attach of a hijacked connection: checks (throwing before anything is written), then <paramref name="upgrade"/>
    /// (the 101, giving the connection's two directions), then the container's output to the client and the client's
    /// bytes to its stdin.
    /// </summary>
    public async Task AttachAsync(string id, IQueryCollection query, Func<Task<(Stream Input, Stream Output)>> upgrade)
    {
        var container = engine.ContainerQueries.Get(id);
        bool created = container.State.Status == ContainerStatus.Created;
        if (!created && container.State.Status != ContainerStatus.Running)
            throw new EngineException(ErrorKind.FailedPrecondition, $"container {container.Name} is not running: start it, then attach");
        var pending = created ? runs.AddAttach(container.Id) : null;
        AttachSession session;
        Stream input, output;
        try
        {
            (input, output) = await upgrade();
            session = pending is null ? engine.Containers.Attach(container.Id) : await pending.Session.Task;
        }
        catch
        {
            if (pending is not null)
                runs.RemoveAttach(container.Id, pending);
            throw;
        }
        using (session)
        {
            bool tty = container.Config.Options.Tty;
            var writeLock = new Lock();
            var stdout = Query.Bool(query, "stdout") ? MultiplexedStream.For(output, MultiplexedStream.Stdout, tty, writeLock) : Stream.Null;
            var stderr = Query.Bool(query, "stderr") ? MultiplexedStream.For(output, MultiplexedStream.Stderr, tty, writeLock) : Stream.Null;
            using var stop = new CancellationTokenSource();
            var forwarding = Query.Bool(query, "stdin") && container.Config.OpenStdin ? ForwardStdinAsync(input, session, stop.Token) : Task.CompletedTask;
            int? status = null;
            try
            {
                status = await Task.Factory.StartNew(() => session.CopyOutput(stdout, stderr), TaskCreationOptions.LongRunning);
            }
            catch (Exception error) when (error is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // the client went away: the container runs on, and its exit still reaches the waits below
            }
            finally
            {
                stop.Cancel();
                await forwarding.ContinueWith(_ => { }, TaskScheduler.Default);
            }
            if (pending is not null)
                runs.PublishExit(container.Id, status ?? await engine.Containers.WaitAsync(container.Id));
        }
    }

    /// <summary>The client's bytes to the container's stdin; its half-close is the end of the container's input.</summary>
    private static async Task ForwardStdinAsync(Stream connection, AttachSession session, CancellationToken cancel)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            int n;
            while ((n = await connection.ReadAsync(buffer, cancel)) > 0)
                session.SendStdin(buffer.AsSpan(0, n));
            session.CloseStdin();
        }
        catch (Exception error) when (error is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // the container exited, or the client went away
        }
    }

    private Task Stop(HttpContext context) => WhenRunning(context, id => engine.Containers.Stop(id, Query.Int(context, "t")));

    private Task Restart(HttpContext context)
    {
        engine.Containers.Restart(Query.Route(context, "id"), Query.Int(context, "t"));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private Task Kill(HttpContext context)
    {
        var container = engine.ContainerQueries.Get(Query.Route(context, "id"));
        if (container.State.Status is not (ContainerStatus.Running or ContainerStatus.Paused or ContainerStatus.Restarting))
            throw new EngineException(ErrorKind.FailedPrecondition, $"Container {container.Id} is not running");
        engine.Containers.Kill(container.Id, Query.String(context, "signal") ?? "KILL");
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary>dockerd's 304 for a container that is not running; else the operation and a 204.</summary>
    private Task WhenRunning(HttpContext context, Action<string> operation)
    {
        var container = engine.ContainerQueries.Get(Query.Route(context, "id"));
        if (container.State.Status is not (ContainerStatus.Running or ContainerStatus.Paused or ContainerStatus.Restarting))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        operation(container.Id);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private Task Remove(HttpContext context)
    {
        engine.Containers.Remove(Query.Route(context, "id"), Query.Bool(context, "force"), Query.Bool(context, "v"));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary>docker's logs: stdcopy frames without a terminal (raw with one), each entry as the container wrote it.</summary>
    private async Task Logs(HttpContext context)
    {
        var container = engine.ContainerQueries.Get(Query.Route(context, "id"));
        bool stdout = Query.Bool(context, "stdout"), stderr = Query.Bool(context, "stderr");
        if (!stdout && !stderr)
            throw ApiErrors.BadRequest("you must choose at least one stream: ask for stdout, stderr or both");
        var request = new LogsRequest
        {
            Follow = Query.Bool(context, "follow"),
            Tail = Query.String(context, "tail") is { } tail and not "all" ? Query.Int(context, "tail") : null,
            Since = Time(context, "since"),
            Until = Time(context, "until"),
        };
        bool tty = container.Config.Options.Tty;
        bool timestamps = Query.Bool(context, "timestamps");
        context.Response.ContentType = tty ? "application/vnd.docker.raw-stream"
            : ApiVersions.AtLeast(context, "1.42") ? "application/vnd.docker.multiplexed-stream" : "application/vnd.docker.raw-stream";
        await context.Response.StartAsync(context.RequestAborted);
        await foreach (var entry in engine.ContainerQueries.Logs(container.Id, request, context.RequestAborted))
        {
            bool isStderr = entry.Stream == "stderr";
            if (isStderr ? !stderr : !stdout)
                continue;
            byte? stream = tty ? null : isStderr ? MultiplexedStream.Stderr : MultiplexedStream.Stdout;
            await MultiplexedStream.WriteFrameAsync(context.Response.Body, stream, Encoding.UTF8.GetBytes(entry.Format(timestamps)), context.RequestAborted);
            if (request.Follow)
                await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }

    /// <summary>since/until: docker's client sends unix seconds (with a fraction); 0 is "not given".</summary>
    private static DateTimeOffset? Time(HttpContext context, string name)
        => Query.String(context, name) is not { } text || text == "0" ? null
            : DockerTime.TryParse(text, DateTimeOffset.UtcNow) ?? throw ApiErrors.BadRequest($"invalid {name} \"{text}\": expected unix seconds or an RFC 3339 time");
}
