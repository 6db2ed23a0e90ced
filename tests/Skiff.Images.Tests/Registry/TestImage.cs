using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Tests.Registry;

/// <summary>An image built in the test: gzip layers from TarWriter, a config, a manifest (OCI or Docker schema2).</summary>
internal sealed class TestImage
{
    public required string Architecture { get; init; }
    public required List<byte[]> Layers { get; init; }
    public required byte[] Config { get; init; }
    public required byte[] Manifest { get; init; }
    public required string MediaType { get; init; }

    public Digest ManifestDigest => Digest.Compute(Manifest);
    public Digest ConfigDigest => Digest.Compute(Config);
    public IEnumerable<byte[]> Blobs => Layers.Prepend(Config);

    public static TestImage Create(string architecture = "amd64", int layers = 3, bool docker = false, int randomBytes = 300_000)
    {
        var tars = new List<byte[]>();
        for (int i = 0; i < layers; i++)
        {
            var builder = new LayerBuilder()
                .Directory($"layer{i}/")
                .File($"layer{i}/arch", architecture)
                .Add(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, $"layer{i}/random")
                {
                    Mode = (UnixFileMode)0x1a4,
                    ModificationTime = LayerBuilder.Time,
                    // Incompressible, so the gzip blob is big enough to be cut in the middle.
                    DataStream = new MemoryStream(RandomNumberGenerator.GetBytes(randomBytes)),
                });
            tars.Add(builder.Tar());
        }
        return FromLayers(tars, architecture, docker);
    }

    /// <summary>Three layers exercising what unpacking must get right: whiteouts, an opaque dir, hard links, symlinks, long names.</summary>
    public static TestImage Layered(string marker = "one")
    {
        string longName = new('n', 200);
        var bottom = new LayerBuilder()
            .Directory("bin/")
            .File("bin/busybox", "#!busybox " + marker, mode: (UnixFileMode)0x1ed)
            .Symlink("bin/sh", "/bin/busybox")
            .HardLink("bin/ls", "bin/busybox")
            .Directory("etc/")
            .File("etc/gone", "deleted above")
            .Directory("opaque/")
            .File("opaque/old-a", "a")
            .File("opaque/old-b", "b")
            .Tar();
        var middle = new LayerBuilder()
            .File("etc/.wh.gone", "")
            .Directory("opaque/")
            .File("opaque/.wh..wh..opq", "")
            .File("opaque/new", "new")
            .File("etc/hostname", "box\n", uid: 1000, gid: 1000)
            .Tar();
        var top = new LayerBuilder()
            .Directory("deep/")
            .File($"deep/{longName}", "long")
            .Symlink("deep/rel", "../etc/hostname")
            .Tar();
        return FromLayers([bottom, middle, top], created: new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero));
    }

    /// <summary>An image of the given uncompressed layer tars (bottom first), gzip-compressed.</summary>
    public static TestImage FromLayers(IReadOnlyList<byte[]> tars, string architecture = "amd64", bool docker = false, DateTimeOffset? created = null)
    {
        var layerBlobs = tars.Select(Gzip).ToList();
        var config = new ImageConfig
        {
            Created = created,
            Architecture = architecture,
            OS = "linux",
            Config = new ImageExecutionConfig { Cmd = ["/bin/sh"], Env = ["PATH=/usr/bin:/bin"] },
            RootFs = new ImageRootFs { Type = "layers", DiffIds = [.. tars.Select(tar => Digest.Compute(tar).ToString())] },
        };
        byte[] configBytes = JsonSerializer.SerializeToUtf8Bytes(config, ImageJsonContext.Default.ImageConfig);
        string layerType = docker ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip;
        string mediaType = docker ? MediaTypes.DockerManifest : MediaTypes.OciManifest;
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = mediaType,
            Config = Describe(docker ? MediaTypes.DockerConfig : MediaTypes.OciConfig, configBytes),
            Layers = layerBlobs.Select(blob => Describe(layerType, blob)).ToList(),
        };
        return new TestImage
        {
            Architecture = architecture,
            Layers = layerBlobs,
            Config = configBytes,
            Manifest = JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest),
            MediaType = mediaType,
        };
    }

    /// <summary>Puts the manifest, config and layers into <paramref name="store"/>, as a pull would have.</summary>
    public void AddTo(ContentStore store)
    {
        foreach (byte[] blob in Blobs.Append(Manifest))
            store.Ingest(Digest.Compute(blob), blob.Length, new MemoryStream(blob));
    }

    public static Descriptor Describe(string mediaType, byte[] content, Platform? platform = null)
        => new() { MediaType = mediaType, Digest = Digest.Compute(content), Size = content.Length, Platform = platform };

    public static byte[] Index(bool docker, params TestImage[] images)
    {
        var index = new ImageIndex
        {
            SchemaVersion = 2,
            MediaType = docker ? MediaTypes.DockerManifestList : MediaTypes.OciIndex,
            Manifests = images.Select(image => Describe(image.MediaType, image.Manifest, new Platform { OS = "linux", Architecture = image.Architecture })).ToList(),
        };
        return JsonSerializer.SerializeToUtf8Bytes(index, ImageJsonContext.Default.ImageIndex);
    }

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(data);
        return output.ToArray();
    }
}

/// <summary>Pushes with plain HttpClient calls, the distribution-spec way: monolithic blob upload (POST then PUT ?digest=), manifest PUT.</summary>
internal sealed class TestPusher(Uri baseUri, string? user = null, string? password = null) : IDisposable
{
    private readonly HttpClient _http = Create(user, password);

    private static HttpClient Create(string? user, string? password)
    {
        var http = new HttpClient();
        if (user is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Replaces the Authorization every request carries (e.g. a Bearer token for push).</summary>
    public AuthenticationHeaderValue? Authorization
    {
        get => _http.DefaultRequestHeaders.Authorization;
        set => _http.DefaultRequestHeaders.Authorization = value;
    }

    public async Task PushImageAsync(string repository, string tag, TestImage image)
    {
        foreach (byte[] blob in image.Blobs)
            await PushBlobAsync(repository, blob);
        await PushManifestAsync(repository, tag, image.MediaType, image.Manifest);
    }

    public async Task PushBlobAsync(string repository, byte[] blob)
    {
        using var start = await _http.PostAsync(new Uri(baseUri, $"v2/{repository}/blobs/uploads/"), null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = new Uri(baseUri, start.Headers.Location!);
        string separator = location.Query.Length > 0 ? "&" : "?";
        using var content = new ByteArrayContent(blob);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await _http.PutAsync(new Uri(location + separator + "digest=" + Uri.EscapeDataString(Digest.Compute(blob).ToString())), content);
        Assert.True(put.StatusCode == HttpStatusCode.Created, $"blob upload: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
    }

    public async Task PushManifestAsync(string repository, string reference, string mediaType, byte[] manifest)
    {
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await _http.PutAsync(new Uri(baseUri, $"v2/{repository}/manifests/{reference}"), content);
        Assert.True(put.StatusCode == HttpStatusCode.Created, $"manifest PUT: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
    }
}

internal sealed class TempDir : IDisposable
{
    public TempDir() => Path = Directory.CreateTempSubdirectory("skiff-pull-test-").FullName;

    public string Path { get; }

    public void Dispose() => Skiff.Interop.FileTree.Delete(Path);
}
