using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Skiff.Engine;
using Skiff.Engine.Logging;

namespace Skiff.Api.Tests;

/// <summary>The API served in this process on a unix socket of a temp directory, over an engine on a store of its own.</summary>
public sealed class ServiceFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-api-test-").FullName;
    private EngineHost? _engine;
    private WebApplication? _app;

    public string Socket => Path.Combine(_directory, "api.sock");

    public HttpClient Client { get; } = null!;

    public ServiceFixture()
    {
        Client = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancel) =>
            {
                var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(Socket), cancel);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = new Uri("http://skiff") };
    }

    public async Task InitializeAsync()
    {
        _engine = new EngineHost(EngineOptions.Resolve(Path.Combine(_directory, "root"), Path.Combine(_directory, "run")));
        var address = ServiceAddress.Parse("unix://" + Socket, insecureTcp: false);
        _app = ApiServer.Build(_engine, address, new IdleClock(null, TimeProvider.System), new TextWriterLoggerProvider(TextWriter.Null));
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
            await _app.DisposeAsync();
        _engine?.Dispose();
        Skiff.Interop.FileTree.Delete(_directory);
    }
}
