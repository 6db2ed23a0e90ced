using Skiff.Images.Registry;
using Skiff.Images.Service;
using Skiff.Images.Tests.Registry;
using Skiff.Oci.Image;

namespace Skiff.Images.Tests.Service;

/// <summary>One image service shared by many requests of one process (an API service): pulls, removals and prunes at once.</summary>
public sealed class ImageServiceConcurrencyTests : IDisposable
{
    private readonly TempDir _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task PullsOfTheSameAndOtherImagesSucceedWhileRemovalsAndPrunesRunInTheSameProcess()
    {
        using var registry = await RegistryProcess.StartAsync();
        // Two images on one bottom layer: pulls of different images share a blob and a snapshot.
        var bottom = new LayerBuilder().Directory("bin/").File("bin/tool", "shared").Tar();
        string[] references = [$"{registry.Host}/test/a:v1", $"{registry.Host}/test/b:v1"];
        using (var pusher = new TestPusher(registry.BaseUri))
        {
            await pusher.PushImageAsync("test/a", "v1", TestImage.FromLayers([bottom, new LayerBuilder().File("a", "a").Tar()]));
            await pusher.PushImageAsync("test/b", "v1", TestImage.FromLayers([bottom, new LayerBuilder().File("b", "b").Tar()]));
        }
        using var service = ImageServiceTests.Open(_root.Path, registry.Host);

        using var stop = new CancellationTokenSource();
        var removals = Enumerable.Range(0, 3).Select(remover => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (remover == 0)
                {
                    service.Prune(all: true);
                    continue;
                }
                try
                {
                    service.Remove(references[remover - 1]);
                }
                catch (ImageNotFoundException)
                {
                    // not pulled yet, or removed by the other remover
                }
            }
        })).ToList();
        try
        {
            // Every pull returns its image, whatever removal ran meanwhile.
            await Task.WhenAll(Enumerable.Range(0, 12).Select(pull => Task.Run(async () =>
            {
                var reference = references[pull % 2];
                var image = await service.PullAsync(reference);
                Assert.Equal(2, image.Layers.Count);
            })));
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(removals);
        }

        // Nothing a removal freed is still listed, nothing listed is missing.
        foreach (var reference in references)
            await service.PullAsync(reference);
        foreach (var image in service.List())
            Assert.All(image.Layers, layer => Assert.True(service.Snapshotter.HasLayer(Digest.Parse(layer.ChainId)), $"layer {layer.ChainId} of {image.Id} is missing"));
        Assert.All(service.Metadata.ListBlobs(), blob => Assert.True(service.Content.Exists(Digest.Parse(blob.Digest)), $"blob {blob.Digest} is missing"));
        Assert.All(service.Metadata.ListSnapshots(), snapshot => Assert.True(service.Snapshotter.HasLayer(Digest.Parse(snapshot.ChainId)), $"layer {snapshot.ChainId} is missing"));
    }

    [Fact]
    public async Task AnImageRemovedWhileAContainerRootfsIsMadeFromItIsEitherInUseOrGoneFirst()
    {
        using var registry = await RegistryProcess.StartAsync();
        using (var pusher = new TestPusher(registry.BaseUri))
            await pusher.PushImageAsync("test/a", "v1", TestImage.Create(layers: 2, randomBytes: 1000));
        string reference = $"{registry.Host}/test/a:v1";
        using var service = ImageServiceTests.Open(_root.Path, registry.Host);

        for (int round = 0; round < 20; round++)
        {
            var image = await service.PullAsync(reference);
            string container = $"ctr-{round}";
            using var start = new Barrier(2);
            var prepare = Task.Run(() =>
            {
                start.SignalAndWait();
                return Record(() => service.PrepareRootfs(image.Id, container));
            });
            var remove = Task.Run(() =>
            {
                start.SignalAndWait();
                return Record(() => service.Remove(reference));
            });
            var (prepareError, removeError) = (await prepare, await remove);
            // Either the rootfs came first and the image stays in use, or the removal came first and there is no image.
            if (prepareError is null)
            {
                Assert.Equal(ErrorKind.FailedPrecondition, Assert.IsType<ImageException>(removeError).Kind);
                Assert.True(service.RemoveRootfs(container));
            }
            else
            {
                Assert.Null(removeError);
                Assert.Equal(ErrorKind.NotFound, Assert.IsType<ImageNotFoundException>(prepareError).Kind);
                Assert.DoesNotContain(container, service.Snapshotter.Keys());
            }
        }
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception error)
        {
            return error;
        }
    }
}
