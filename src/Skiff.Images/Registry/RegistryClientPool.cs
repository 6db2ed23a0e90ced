using System.Collections.Concurrent;

namespace Skiff.Images.Registry;

/// <summary>One client per registry for the length of a pull or a push, so a bearer token is fetched once, not per blob.</summary>
public sealed class RegistryClientPool(RegistryOptions options) : IDisposable
{
    private readonly ConcurrentDictionary<string, RegistryClient> _clients = new(StringComparer.OrdinalIgnoreCase);

    public RegistryOptions Options { get; } = options;

    public RegistryClient For(string registry) => _clients.GetOrAdd(registry, r => new RegistryClient(r, Options));

    public void Dispose()
    {
        foreach (var client in _clients.Values)
            client.Dispose();
        _clients.Clear();
    }
}
