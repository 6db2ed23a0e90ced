using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Skiff;

namespace Skiff.Api;

/// <summary>
/// docker's hijacked attach, served below HTTP. docker's client half-closes the connection as soon as it has no more
/// stdin to send (at once without -i), and keeps reading the output; Kestrel's HTTP/1.1 aborts a connection whose
/// input ended, upgraded or not, so the output would be lost. A connection whose first request is an attach is
/// therefore taken here from the transport: its request line and headers are read (64 KiB at most), the answer is
/// written by hand (101, or docker's JSON error), and the rest of the connection is the container's stdio. Any other
/// connection goes on to Kestrel's HTTP untouched.
/// </summary>
internal sealed class HijackedConnections(ContainerRoutes containers, IdleClock idle)
{
    private const int MaxHeader = 64 * 1024;

    public async Task Handle(ConnectionContext connection, ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        var result = await input.ReadAsync(connection.ConnectionClosed);
        var buffer = result.Buffer;
        var line = RequestLine(buffer);
        if (line is not { Method: "POST" } || AttachTarget(line.Value.Target) is not { } target)
        {
            input.AdvanceTo(buffer.Start);
            await next(connection);
            return;
        }
        // the whole header, then the connection is ours
        while (true)
        {
            if (buffer.PositionOf((byte)'\n') is not null && Find(buffer, "\r\n\r\n"u8) is { } end)
            {
                input.AdvanceTo(buffer.GetPosition(end + 4));
                break;
            }
            if (result.IsCompleted || buffer.Length > MaxHeader)
                return;
            input.AdvanceTo(buffer.Start, buffer.End);
            result = await input.ReadAsync(connection.ConnectionClosed);
            buffer = result.Buffer;
        }
        await idle.Track(() => Attach(connection, target.Version, target.Id, target.Query));
    }

    private async Task Attach(ConnectionContext connection, string? version, string id, string query)
    {
        var output = connection.Transport.Output.AsStream();
        bool upgraded = false;
        try
        {
            if (version is not null && ApiVersions.Refusal(version) is { } refusal)
                throw ApiErrors.BadRequest(refusal);
            await containers.AttachAsync(id, new QueryCollection(QueryHelpers.ParseQuery(query)), async () =>
            {
                await output.WriteAsync("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"u8.ToArray());
                await output.FlushAsync();
                upgraded = true;
                return (connection.Transport.Input.AsStream(), output);
            });
        }
        catch (Exception error) when (!upgraded && ErrorKinds.IsExpected(error))
        {
            var body = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new ErrorResponse(ApiErrors.Message(error)), ApiJsonContext.Default.ErrorResponse));
            int status = ApiErrors.Status(ErrorKinds.Of(error));
            var head = $"HTTP/1.1 {status} {ReasonPhrases.GetReasonPhrase(status)}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
            await output.WriteAsync(Encoding.ASCII.GetBytes(head));
            await output.WriteAsync(body);
            await output.FlushAsync();
        }
    }

    /// <summary>The request line's method and target, when the buffer holds all of it.</summary>
    private static (string Method, string Target)? RequestLine(ReadOnlySequence<byte> buffer)
    {
        var slice = buffer.Slice(0, Math.Min(buffer.Length, 8 * 1024));
        if (slice.PositionOf((byte)'\n') is not { } newline)
            return null;
        var parts = Encoding.ASCII.GetString(slice.Slice(0, newline)).TrimEnd('\r').Split(' ');
        return parts.Length == 3 ? (parts[0], parts[1]) : null;
    }

    /// <summary>`[/vX.Y]/containers/ID/attach[?QUERY]`: the version, the container and the query.</summary>
    internal static (string? Version, string Id, string Query)? AttachTarget(string target)
    {
        int question = target.IndexOf('?');
        string path = question < 0 ? target : target[..question];
        var (version, route) = ApiVersions.Split(path);
        var segments = route.Split('/');
        return segments is ["", "containers", { Length: > 0 } id, "attach"]
            ? (version, Uri.UnescapeDataString(id), question < 0 ? "" : target[question..])
            : null;
    }

    private static long? Find(ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> value)
    {
        var bytes = buffer.Length <= MaxHeader + 4 ? buffer.ToArray() : buffer.Slice(0, MaxHeader + 4).ToArray();
        int at = bytes.AsSpan().IndexOf(value);
        return at < 0 ? null : at;
    }
}
