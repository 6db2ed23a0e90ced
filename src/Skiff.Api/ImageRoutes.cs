using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Skiff.Engine;
using Skiff.Images.Service;

namespace Skiff.Api;

/// <summary>/images: list, inspect and pull, through the engine's image use cases (which record their events).</summary>
internal sealed class ImageRoutes(EngineHost engine)
{
    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/images/json", List);
        routes.MapPost("/images/create", Create);
        // Image names have slashes: dockerd's /images/{name:.*}/json.
        routes.MapGet("/images/{**name}", Named);
    }

    private Task List(HttpContext context)
    {
        var images = engine.Images.List(Query.Bool(context, "all"), Query.Filters(context));
        var summaries = images.Select(image =>
        {
            var labels = engine.ImageStore.Config(image).Config?.Labels;
            return new ImageSummary
            {
                Id = image.Id,
                ParentId = image.Parent ?? "",
                RepoTags = image.RepoTags,
                RepoDigests = image.RepoDigests,
                Created = image.Created.ToUnixTimeSeconds(),
                Size = image.Size,
                VirtualSize = image.Size,
                Labels = labels is null ? new Dictionary<string, string>() : new Dictionary<string, string>(labels),
            };
        }).ToList();
        return Json.WriteAsync(context, summaries, ApiJsonContext.Default.ListImageSummary);
    }

    private Task Named(HttpContext context)
    {
        var path = Query.Route(context, "name");
        if (!path.EndsWith("/json", StringComparison.Ordinal))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return ApiErrors.WriteMessageAsync(context, $"page not found: GET /images/{path}");
        }
        return Json.WriteAsync(context, engine.Images.Inspect(path[..^"/json".Length]), ApiJsonContext.Default.ImageInspect);
    }

    /// <summary>
    /// docker's pull: a 200 at once, then its JSON progress stream; a failure after the start is the stream's last
    /// message (`errorDetail`), as dockerd's, since the status has gone out. A client that goes away cancels the pull.
    /// </summary>
    private async Task Create(HttpContext context)
    {
        if (Query.String(context, "fromSrc") is not null)
            throw ApiErrors.BadRequest("importing an image through the API (fromSrc) is not served yet: use `skiff import`");
        var image = Query.String(context, "fromImage") ?? throw ApiErrors.BadRequest("the image to pull is missing: give fromImage");
        var reference = Reference(image, Query.String(context, "tag"));
        var platform = Query.String(context, "platform") is { } text ? Skiff.Oci.Image.Platform.Parse(text) : null;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(context.RequestAborted);
        var messages = Channel.CreateUnbounded<ProgressMessage>(new UnboundedChannelOptions { SingleReader = true });
        var writer = WriteMessagesAsync(context, messages.Reader);
        messages.Writer.TryWrite(new ProgressMessage { Status = $"Pulling from {ImageNames.Split(reference).Repository}", Id = ImageNames.Split(reference).TagOrDigest });
        try
        {
            var pulled = await engine.Images.PullAsync(new PullRequest { Reference = reference, Platform = platform },
                new Progress(messages.Writer), context.RequestAborted);
            messages.Writer.TryWrite(new ProgressMessage { Status = $"Digest: {pulled.Digest}" });
            messages.Writer.TryWrite(new ProgressMessage { Status = pulled.Downloaded ? $"Status: Downloaded newer image for {pulled.Name}" : $"Status: Image is up to date for {pulled.Name}" });
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error) && !context.RequestAborted.IsCancellationRequested)
        {
            string message = ApiErrors.Message(error);
            messages.Writer.TryWrite(new ProgressMessage { ErrorDetail = new ErrorDetail(message), Error = message });
        }
        finally
        {
            messages.Writer.TryComplete();
            await writer;
        }
    }

    /// <summary>docker's fromImage and tag: a tag that is a digest joins with @.</summary>
    internal static string Reference(string image, string? tag)
        => tag is null ? image : tag.Contains(':') ? $"{image}@{tag}" : $"{image}:{tag}";

    private static async Task WriteMessagesAsync(HttpContext context, ChannelReader<ProgressMessage> messages)
    {
        try
        {
            await foreach (var message in messages.ReadAllAsync())
            {
                await JsonSerializer.SerializeAsync(context.Response.Body, message, ProgressJsonContext.Default.ProgressMessage, context.RequestAborted);
                await context.Response.Body.WriteAsync("\r\n"u8.ToArray(), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (Exception error) when (error is OperationCanceledException or IOException)
        {
            // the client went away; the pull is cancelled through the same token
        }
    }

    /// <summary>The engine's layer progress as docker's messages (short layer IDs, as docker shows them).</summary>
    private sealed class Progress(ChannelWriter<ProgressMessage> messages) : IProgress<PullProgress>
    {
        public void Report(PullProgress value)
        {
            string id = ImageInfo.ShortHex(value.Layer);
            messages.TryWrite(value.Phase switch
            {
                PullPhase.Waiting => new ProgressMessage { Status = "Waiting", Id = id },
                PullPhase.Downloading => new ProgressMessage { Status = "Downloading", Id = id, ProgressDetail = new ProgressDetail(value.Bytes, value.Total) },
                PullPhase.Extracting => new ProgressMessage { Status = "Extracting", Id = id, ProgressDetail = new ProgressDetail(value.Bytes, value.Total) },
                PullPhase.AlreadyExists => new ProgressMessage { Status = "Already exists", Id = id },
                _ => new ProgressMessage { Status = "Pull complete", Id = id },
            });
        }
    }
}
