using Skiff.Engine;

namespace Skiff.Build.Execution;

/// <summary>An image's root filesystem mounted for reading (COPY --from, RUN --mount from=), removed on dispose.</summary>
internal sealed class SnapshotView : IDisposable
{
    private readonly EngineHost _host;
    private readonly string _key = "build-view-" + Convert.ToHexStringLower(Skiff.Interop.SecureRandom.Bytes(16));

    public SnapshotView(EngineHost host, string imageId)
    {
        _host = host;
        ImageId = imageId;
        Path = host.Rootfs.Prepare(_key, imageId);
    }

    public string ImageId { get; }
    public string Path { get; }

    public void Dispose() => _host.Rootfs.Release(_key);
}
