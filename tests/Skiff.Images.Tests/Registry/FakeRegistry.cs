using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;

namespace Skiff.Images.Tests.Registry;

/// <summary>
/// A registry written for misbehaving on purpose: HttpListener on 127.0.0.1 serving manifests and blobs from
/// dictionaries (with Range support), where a test can intercept any request. Everything it is asked is logged.
/// </summary>
internal sealed partial class FakeRegistry : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _loop;

    public FakeRegistry()
    {
        for (int tries = 0; ; tries++)
        {
            // A port free a moment ago may be taken by a parallel test: a fresh listener on another port then.
            Port = RegistryProcess.FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                listener.Start();
                _listener = listener;
                break;
            }
            catch (HttpListenerException) when (tries < 5)
            {
                CloseQuietly(listener);
            }
        }
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>"repo:reference" → (content type, bytes).</summary>
    public ConcurrentDictionary<string, (string ContentType, byte[] Bytes)> Manifests { get; } = new();

    /// <summary>digest string → bytes served for it (need not match the digest).</summary>
    public ConcurrentDictionary<string, byte[]> Blobs { get; } = new();

    /// <summary>Blobs pushed to it, "repo@digest" → bytes: what HEAD sees and mounts copy.</summary>
    public ConcurrentDictionary<string, byte[]> Pushed { get; } = new();

    /// <summary>Whether <c>POST ?mount=&amp;from=</c> links a blob the source repository has (else it opens an upload).</summary>
    public bool MountEnabled { get; set; } = true;

    /// <summary>Sent as <c>OCI-Chunk-Min-Length</c> when an upload session opens.</summary>
    public long? ChunkMinLength { get; set; }

    private readonly ConcurrentDictionary<string, MemoryStream> _uploads = new();

    /// <summary>Runs first for every request; returns true when it answered the request itself.</summary>
    public Func<HttpListenerContext, Task<bool>>? Intercept { get; set; }

    /// <summary>"METHOD path?query range=... auth=..." for every request.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>
    /// The managed HttpListener re-resolves its endpoint while closing and can throw "Address
    /// already in use" when a parallel test has just bound the same port: closing is cleanup, and
    /// the listener is unusable either way.
    /// </summary>
    private static void CloseQuietly(HttpListener listener)
    {
        try
        {
            listener.Close();
        }
        catch (HttpListenerException)
        {
        }
    }

    public void Dispose()
    {
        try
        {
            _listener.Stop();
        }
        catch (HttpListenerException)
        {
        }
        CloseQuietly(_listener);
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception error) when (error is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        Log.Enqueue($"{request.HttpMethod} {request.Url!.PathAndQuery} range={request.Headers["Range"]} content-range={request.Headers["Content-Range"]} auth={request.Headers["Authorization"]}");
        try
        {
            if (Intercept is { } intercept && await intercept(context))
                return;
            await ServeAsync(context);
        }
        catch (Exception error) when (error is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away or the test aborted the response on purpose.
        }
    }

    public async Task ServeAsync(HttpListenerContext context)
    {
        var response = context.Response;
        string path = context.Request.Url!.AbsolutePath;
        if (path == "/v2/")
        {
            response.StatusCode = 200;
            response.Close();
            return;
        }
        if (await ServePushAsync(context))
            return;
        var match = RouteRegex().Match(path);
        if (match.Success && match.Groups["kind"].Value == "manifests"
            && Manifests.TryGetValue($"{match.Groups["name"].Value}:{match.Groups["ref"].Value}", out var manifest))
        {
            response.ContentType = manifest.ContentType;
            response.ContentLength64 = manifest.Bytes.Length;
            await response.OutputStream.WriteAsync(manifest.Bytes);
            response.Close();
            return;
        }
        if (match.Success && match.Groups["kind"].Value == "blobs" && Blobs.TryGetValue(match.Groups["ref"].Value, out var blob))
        {
            await ServeBlobAsync(context, blob);
            return;
        }
        response.StatusCode = 404;
        response.ContentType = "application/json";
        await response.OutputStream.WriteAsync("""{"errors":[{"code":"NOT_FOUND","message":"not here"}]}"""u8.ToArray());
        response.Close();
    }

    /// <summary>The push side: HEAD on pushed blobs, upload sessions (POST, PATCH, PUT ?digest=), mounts, manifest PUTs.</summary>
    private async Task<bool> ServePushAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        string path = request.Url!.AbsolutePath;
        var upload = UploadRegex().Match(path);
        var route = RouteRegex().Match(path);
        if (request.HttpMethod == "POST" && upload.Success && upload.Groups["id"].Value == "")
        {
            string name = upload.Groups["name"].Value;
            if (MountEnabled && request.QueryString["mount"] is { } mount && request.QueryString["from"] is { } from
                && Pushed.TryGetValue($"{from}@{mount}", out var mounted))
            {
                Pushed[$"{name}@{mount}"] = mounted;
                response.StatusCode = 201;
                response.AddHeader("Location", $"/v2/{name}/blobs/{mount}");
                response.Close();
                return true;
            }
            string id = Guid.NewGuid().ToString("N");
            _uploads[id] = new MemoryStream();
            response.StatusCode = 202;
            // A state parameter, as the reference registry sends, that the digest must be appended to.
            response.AddHeader("Location", $"/v2/{name}/blobs/uploads/{id}?_state={id}");
            if (ChunkMinLength is long minimum)
                response.AddHeader("OCI-Chunk-Min-Length", minimum.ToString());
            response.Close();
            return true;
        }
        if (request.HttpMethod is "PATCH" or "PUT" && upload.Success && _uploads.TryGetValue(upload.Groups["id"].Value, out var session))
        {
            string name = upload.Groups["name"].Value;
            string id = upload.Groups["id"].Value;
            if (request.Headers["Content-Range"] is { } contentRange && long.Parse(contentRange.Split('-')[0]) != session.Length)
            {
                response.StatusCode = 416;
                response.Close();
                return true;
            }
            await request.InputStream.CopyToAsync(session);
            if (request.HttpMethod == "PATCH")
            {
                response.StatusCode = 202;
                response.AddHeader("Location", $"/v2/{name}/blobs/uploads/{id}?_state={id}");
                response.AddHeader("Range", $"0-{session.Length - 1}");
                response.Close();
                return true;
            }
            string digest = request.QueryString["digest"] ?? "";
            byte[] content = session.ToArray();
            _uploads.TryRemove(id, out _);
            if (Skiff.Oci.Image.Digest.Compute(content).ToString() != digest)
            {
                response.StatusCode = 400;
                response.Close();
                return true;
            }
            Pushed[$"{name}@{digest}"] = content;
            response.StatusCode = 201;
            response.AddHeader("Location", $"/v2/{name}/blobs/{digest}");
            response.Close();
            return true;
        }
        if (request.HttpMethod == "HEAD" && route.Success && route.Groups["kind"].Value == "blobs")
        {
            response.StatusCode = Pushed.ContainsKey($"{route.Groups["name"].Value}@{route.Groups["ref"].Value}") ? 200 : 404;
            response.Close();
            return true;
        }
        if (request.HttpMethod == "PUT" && route.Success && route.Groups["kind"].Value == "manifests")
        {
            using var body = new MemoryStream();
            await request.InputStream.CopyToAsync(body);
            string digest = Skiff.Oci.Image.Digest.Compute(body.ToArray()).ToString();
            Manifests[$"{route.Groups["name"].Value}:{route.Groups["ref"].Value}"] = (request.ContentType ?? "", body.ToArray());
            Manifests[$"{route.Groups["name"].Value}:{digest}"] = (request.ContentType ?? "", body.ToArray());
            response.StatusCode = 201;
            response.AddHeader("Docker-Content-Digest", digest);
            response.Close();
            return true;
        }
        return false;
    }

    /// <summary>Serves <paramref name="blob"/> honouring <c>Range: bytes=N-</c>; <paramref name="cutAfter"/> aborts the connection after that many body bytes.</summary>
    public static async Task ServeBlobAsync(HttpListenerContext context, byte[] blob, int? cutAfter = null)
    {
        var response = context.Response;
        long start = 0;
        string? range = context.Request.Headers["Range"];
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1]);
            response.StatusCode = 206;
            response.AddHeader("Content-Range", $"bytes {start}-{blob.Length - 1}/{blob.Length}");
        }
        response.ContentType = "application/octet-stream";
        response.ContentLength64 = blob.Length - start;
        int length = (int)(blob.Length - start);
        if (cutAfter is int cut && cut < length)
        {
            await response.OutputStream.WriteAsync(blob.AsMemory((int)start, cut));
            await response.OutputStream.FlushAsync();
            await Task.Delay(50);
            response.Abort();
            return;
        }
        await response.OutputStream.WriteAsync(blob.AsMemory((int)start, length));
        response.Close();
    }

    [GeneratedRegex("^/v2/(?<name>.+)/(?<kind>manifests|blobs)/(?<ref>[^/]+)$")]
    private static partial Regex RouteRegex();

    [GeneratedRegex("^/v2/(?<name>.+)/blobs/uploads/(?<id>[^/]*)$")]
    private static partial Regex UploadRegex();
}
