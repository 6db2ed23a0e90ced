using System.Diagnostics;
using Skiff.Images.Registry;
using Skiff.Images.Service;
using Skiff.Images.Tests.Registry;
using Skiff.Oci.Image;

namespace Skiff.Images.Tests.Service;

/// <summary>The kinds front ends map to exit codes and statuses (404, 409, 503...), as the image service's throw sites give them.</summary>
public sealed class ImageErrorKindTests : IDisposable
{
    private readonly TempDir _root = new();

    public void Dispose() => _root.Dispose();

    private ImageService Open(string registryHost, string? root = null) => ImageServiceTests.Open(root ?? _root.Path, registryHost);

    private static FakeRegistry Serve(TestImage image, string repositoryAndTag)
    {
        var registry = new FakeRegistry();
        registry.Manifests[repositoryAndTag] = (image.MediaType, image.Manifest);
        foreach (byte[] blob in image.Blobs)
            registry.Blobs[Digest.Compute(blob).ToString()] = blob;
        return registry;
    }

    [Fact]
    public async Task UnknownImagesAreNotFoundMalformedRequestsInvalidAndAnImageInUseAFailedPrecondition()
    {
        using var registry = Serve(TestImage.Create(layers: 1, randomBytes: 1000), "test/app:1");
        using var service = Open(registry.Host);
        var image = await service.PullAsync($"{registry.Host}/test/app:1");

        Assert.Equal(ErrorKind.NotFound, Assert.Throws<ImageNotFoundException>(() => service.Resolve("no-such-image")).Kind);
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<ImageException>(() => service.Tag(image.Id, $"app@{image.ConfigDigest}")).Kind);
        Assert.Equal(ErrorKind.InvalidArgument, (await Assert.ThrowsAsync<ImageException>(() => service.PullAsync("Not A Reference"))).Kind);
        service.PrepareRootfs(image.Id, "ctr");
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<ImageException>(() => service.Remove(image.Id)).Kind);
        Assert.True(service.RemoveRootfs("ctr"));
    }

    [Fact]
    public async Task ABlobThatIsNotItsDigestIsAnInvalidArgumentAndAnUnknownTagNotFound()
    {
        var image = TestImage.Create(layers: 1, randomBytes: 1000);
        using var registry = Serve(image, "test/bad:1");
        var corrupted = (byte[])image.Layers[0].Clone();
        corrupted[^10] ^= 0xff;
        registry.Blobs[Digest.Compute(image.Layers[0]).ToString()] = corrupted;
        using var service = Open(registry.Host);

        Assert.Equal(ErrorKind.InvalidArgument, (await Assert.ThrowsAsync<RegistryException>(() => service.PullAsync($"{registry.Host}/test/bad:1"))).Kind);
        Assert.Equal(ErrorKind.NotFound, (await Assert.ThrowsAsync<RegistryException>(() => service.PullAsync($"{registry.Host}/test/bad:2"))).Kind);
    }

    [Fact]
    public async Task ARegistryNobodyListensOnIsUnavailable()
    {
        string host = $"127.0.0.1:{RegistryProcess.FreePort()}";
        using var service = Open(host);
        Assert.Equal(ErrorKind.Unavailable, (await Assert.ThrowsAsync<RegistryException>(() => service.PullAsync($"{host}/test/app:1"))).Kind);
    }

    [Fact]
    public async Task APullThatFillsTheDiskIsResourceExhausted()
    {
        using var registry = Serve(TestImage.Create(layers: 2, randomBytes: 1 << 20), "test/big:1");
        string root = Path.Combine(_root.Path, "small");
        Directory.CreateDirectory(root);
        Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", root);
        try
        {
            using var service = Open(registry.Host, root);
            var error = await Assert.ThrowsAsync<ImageException>(() => service.PullAsync($"{registry.Host}/test/big:1"));
            Assert.Equal(ErrorKind.ResourceExhausted, error.Kind);
            Assert.Contains("no space left", error.Message);
        }
        finally
        {
            Run("umount", "-l", root);
        }
    }

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(program, args);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }
}
