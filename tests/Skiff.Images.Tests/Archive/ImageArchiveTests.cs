using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Images.Tests.Registry;
using Skiff.Oci.Image;
using Skiff.Storage.Content;
using Skiff.Storage.Metadata;
using Skiff.Storage.Snapshots;

namespace Skiff.Images.Tests.Archive;

public sealed class ImageArchiveTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly ContentStore _source;
    private readonly ContentStore _target;

    public ImageArchiveTests()
    {
        _source = new ContentStore(Path.Combine(_temp.Path, "source"));
        _target = new ContentStore(Path.Combine(_temp.Path, "target"));
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>Puts a test image's blobs and manifest into <paramref name="store"/>, as a pull does.</summary>
    internal static ArchiveImage Put(ContentStore store, TestImage image, params string[] tags)
    {
        foreach (byte[] blob in image.Blobs.Append(image.Manifest))
            store.Ingest(Digest.Compute(blob), blob.Length, new MemoryStream(blob));
        return new ArchiveImage(image.ManifestDigest, tags);
    }

    internal static byte[] Save(ContentStore store, ArchiveFormat format, params ArchiveImage[] images)
    {
        var output = new MemoryStream();
        ImageArchiveWriter.Write(store, images, format, output);
        return output.ToArray();
    }

    private static Dictionary<string, byte[]> Entries(byte[] archive)
    {
        var entries = new Dictionary<string, byte[]>();
        using var reader = new TarReader(new MemoryStream(archive));
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            entries[entry.Name] = data.ToArray();
        }
        return entries;
    }

    private void AssertTargetEmpty()
    {
        Assert.Empty(_target.List());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_target.Root, "ingest")));
    }

    private static byte[] Gunzip(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public void DockerArchiveHoldsPlainLayersNamedByDiffIdAndLoadsBack()
    {
        var image = TestImage.Create(layers: 2, randomBytes: 50_000);
        var saved = Put(_source, image, "registry.test:5000/team/app:v1", "docker.io/library/app:latest");

        byte[] archive = Save(_source, ArchiveFormat.DockerArchive, saved);

        var entries = Entries(archive);
        var manifest = JsonDocument.Parse(entries["manifest.json"]).RootElement[0];
        Assert.Equal($"blobs/sha256/{image.ConfigDigest.Encoded}", manifest.GetProperty("Config").GetString());
        Assert.Equal(["registry.test:5000/team/app:v1", "docker.io/library/app:latest"], manifest.GetProperty("RepoTags").EnumerateArray().Select(t => t.GetString()));
        var layers = manifest.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToList();
        for (int i = 0; i < image.Layers.Count; i++)
        {
            byte[] plain = Gunzip(image.Layers[i]);
            Assert.Equal($"blobs/sha256/{Digest.Compute(plain).Encoded}", layers[i]);
            Assert.Equal(plain, entries[layers[i]]);
        }
        var repositories = JsonDocument.Parse(entries["repositories"]).RootElement;
        Assert.True(repositories.GetProperty("registry.test:5000/team/app").TryGetProperty("v1", out _));
        Assert.Equal(image.Config, entries[$"blobs/sha256/{image.ConfigDigest.Encoded}"]);

        var loaded = Assert.Single(ImageArchiveReader.Read(_target, new MemoryStream(archive)));
        Assert.Equal(image.ConfigDigest, loaded.Config.Digest);
        Assert.Equal(saved.Tags, loaded.Tags);
        Assert.Equal(image.Layers.Select(l => Digest.Compute(Gunzip(l))), loaded.DiffIds);
        Assert.Equal(loaded.DiffIds, loaded.Layers.Select(l => l.Digest));
        Assert.All(loaded.Layers, layer => Assert.Equal(MediaTypes.OciLayer, layer.MediaType));
        var stored = JsonSerializer.Deserialize(File.ReadAllBytes(_target.BlobPath(loaded.ManifestDigest)), ImageJsonContext.Default.ImageManifest)!;
        Assert.Equal(loaded.Config, stored.Config);
        Assert.Equal(loaded.Layers, stored.Layers);
        // Exactly the image's blobs: nothing of the archive that is not image content stays.
        Assert.Equal(loaded.Layers.Select(l => l.Digest).Append(loaded.Config.Digest).Append(loaded.ManifestDigest).Select(d => d.ToString()).Order(),
            _target.List().Select(b => b.Digest.ToString()).Order());
    }

    [Fact]
    public void OciArchiveKeepsBlobsAndManifestDigestAndLoadsBack()
    {
        var image = TestImage.Create(layers: 3, randomBytes: 20_000, docker: true);
        var saved = Put(_source, image, "docker.io/library/app:1.0");

        byte[] archive = Save(_source, ArchiveFormat.OciArchive, saved);

        var entries = Entries(archive);
        Assert.Equal("""{"imageLayoutVersion":"1.0.0"}""", Encoding.UTF8.GetString(entries["oci-layout"]));
        var index = JsonSerializer.Deserialize(entries["index.json"], ImageJsonContext.Default.ImageIndex)!;
        var entry = Assert.Single(index.Manifests);
        Assert.Equal(image.ManifestDigest, entry.Digest);
        Assert.Equal(MediaTypes.DockerManifest, entry.MediaType);
        Assert.Equal("docker.io/library/app:1.0", entry.Annotations!["org.opencontainers.image.ref.name"]);
        foreach (byte[] blob in image.Blobs.Append(image.Manifest))
            Assert.Equal(blob, entries[$"blobs/sha256/{Digest.Compute(blob).Encoded}"]);

        var loaded = Assert.Single(ImageArchiveReader.Read(_target, new MemoryStream(archive)));
        Assert.Equal(image.ManifestDigest, loaded.ManifestDigest);
        Assert.Equal(MediaTypes.DockerManifest, loaded.ManifestMediaType);
        Assert.Equal(image.ConfigDigest, loaded.Config.Digest);
        Assert.Equal(image.Layers.Select(l => Digest.Compute(l)), loaded.Layers.Select(l => l.Digest));
        Assert.Equal(image.Layers.Select(l => Digest.Compute(Gunzip(l))), loaded.DiffIds);
        Assert.Equal(["docker.io/library/app:1.0"], loaded.Tags);
        Assert.Equal(image.Blobs.Append(image.Manifest).Select(b => Digest.Compute(b).ToString()).Order(), _target.List().Select(b => b.Digest.ToString()).Order());
    }

    [Theory]
    [InlineData(ArchiveFormat.DockerArchive)]
    [InlineData(ArchiveFormat.OciArchive)]
    public void SeveralImagesSharingLayersRoundTripThroughACompressedArchive(ArchiveFormat format)
    {
        var first = TestImage.Create(architecture: "amd64", layers: 2, randomBytes: 10_000);
        var second = TestImage.Create(architecture: "arm64", layers: 1, randomBytes: 10_000);
        var untagged = TestImage.Create(layers: 1, randomBytes: 10_000);
        var images = new[] { Put(_source, first, "docker.io/library/one:a", "docker.io/library/one:b"), Put(_source, second, "localhost/two:latest"), Put(_source, untagged) };

        byte[] archive = Save(_source, format, images);
        var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(archive);
        gzipped.Position = 0;

        var loaded = ImageArchiveReader.Read(_target, gzipped);
        Assert.Equal([first.ConfigDigest, second.ConfigDigest, untagged.ConfigDigest], loaded.Select(image => image.Config.Digest));
        Assert.Equal([["docker.io/library/one:a", "docker.io/library/one:b"], ["localhost/two:latest"], []], loaded.Select(image => image.Tags));
        foreach (var image in loaded)
            Assert.All(image.Layers.Append(image.Config), blob => Assert.True(_target.Exists(blob.Digest)));
    }

    [Fact]
    public void AnImageRecordedInTheMetadataStoreSavesWithItsTags()
    {
        var image = TestImage.Create(layers: 2, randomBytes: 5_000);
        Put(_source, image);
        using var metadata = MetadataStore.Open(Path.Combine(_temp.Path, "metadata.db"));
        foreach (byte[] blob in image.Blobs.Append(image.Manifest))
            metadata.PutBlob(Digest.Compute(blob).ToString(), blob.Length);
        var diffIds = image.Layers.Select(l => Digest.Compute(Gunzip(l))).ToList();
        var chain = ChainId.ForLayers(diffIds);
        metadata.PutImage(new ImageRecord(image.ConfigDigest.ToString(), image.ManifestDigest.ToString(), image.ConfigDigest.ToString(), DateTimeOffset.UnixEpoch),
            [.. image.Layers.Select((l, i) => new LayerRecord(i, Digest.Compute(l).ToString(), l.Length, diffIds[i].ToString(), chain[i].ToString()))],
            ["docker.io/library/recorded:1", "docker.io/library/recorded:latest"]);

        var record = metadata.ResolveTag("docker.io/library/recorded:1")!;
        byte[] archive = Save(_source, ArchiveFormat.DockerArchive, ArchiveImage.Of(record, metadata.TagsOf(record.Id)));

        var loaded = Assert.Single(ImageArchiveReader.Read(_target, new MemoryStream(archive)));
        Assert.Equal(record.ConfigDigest, loaded.Config.Digest.ToString());
        Assert.Equal(["docker.io/library/recorded:1", "docker.io/library/recorded:latest"], loaded.Tags);
        Assert.Equal(diffIds, loaded.DiffIds);
    }

    [Theory]
    [InlineData(ArchiveFormat.DockerArchive)]
    [InlineData(ArchiveFormat.OciArchive)]
    public void SaveWritesToAndLoadReadsFromStreamsThatCannotSeek(ArchiveFormat format)
    {
        var image = TestImage.Create(layers: 2, randomBytes: 200_000);
        var output = new MemoryStream();

        ImageArchiveWriter.Write(_source, [Put(_source, image, "docker.io/library/piped:1")], format, new ForwardOnlyStream(output));
        var loaded = Assert.Single(ImageArchiveReader.Read(_target, new ForwardOnlyStream(new MemoryStream(output.ToArray()))));

        Assert.Equal(image.ConfigDigest, loaded.Config.Digest);
        Assert.Equal(image.Layers.Select(l => Digest.Compute(Gunzip(l))), loaded.DiffIds);
    }

    [Fact]
    public void SaveOfALayerThatDoesNotMatchItsDiffIdFails()
    {
        var image = TestImage.Create(layers: 1, randomBytes: 1000);
        var config = JsonSerializer.Deserialize(image.Config, ImageJsonContext.Default.ImageConfig)!;
        byte[] wrongConfig = JsonSerializer.SerializeToUtf8Bytes(config with { RootFs = new ImageRootFs { DiffIds = [Digest.Compute("other"u8).ToString()] } }, ImageJsonContext.Default.ImageConfig);
        var manifest = JsonSerializer.Deserialize(image.Manifest, ImageJsonContext.Default.ImageManifest)!;
        byte[] wrongManifest = JsonSerializer.SerializeToUtf8Bytes(manifest with { Config = TestImage.Describe(MediaTypes.OciConfig, wrongConfig) }, ImageJsonContext.Default.ImageManifest);
        foreach (byte[] blob in new[] { image.Layers[0], wrongConfig, wrongManifest })
            _source.Ingest(Digest.Compute(blob), blob.Length, new MemoryStream(blob));

        var error = Assert.Throws<ArchiveException>(() => Save(_source, ArchiveFormat.DockerArchive, new ArchiveImage(Digest.Compute(wrongManifest), [])));

        Assert.Contains("the image config says " + Digest.Compute("other"u8), error.Message);
    }

    [Fact]
    public void SaveOfAnImageMissingFromTheStoreWritesNothing()
    {
        var image = TestImage.Create(layers: 1, randomBytes: 1000);
        var output = new MemoryStream();

        var error = Assert.Throws<ArchiveException>(() => ImageArchiveWriter.Write(_source, [new ArchiveImage(image.ManifestDigest, [])], ArchiveFormat.DockerArchive, output));

        Assert.Contains(image.ManifestDigest.ToString(), error.Message);
        Assert.Equal(0, output.Length);
        Assert.Throws<ArgumentException>(() => ImageArchiveWriter.Write(_source, [Put(_source, image, "no-tag")], ArchiveFormat.OciArchive, output));
        Assert.Equal(0, output.Length);
    }

    public static TheoryData<string> Corruptions => new() { "truncated", "flipped", "not-a-tar", "missing-layer", "wrong-diff-id", "empty" };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void BadArchiveFailsClearlyAndLeavesNothingInTheStore(string corruption)
    {
        var image = TestImage.Create(layers: 2, randomBytes: 100_000);
        var saved = Put(_source, image, "docker.io/library/bad:1");
        byte[] archive = Save(_source, ArchiveFormat.DockerArchive, saved);
        var entries = Entries(archive);
        string layer = JsonDocument.Parse(entries["manifest.json"]).RootElement[0].GetProperty("Layers")[1].GetString()!;
        byte[] bad = corruption switch
        {
            "truncated" => archive[..(archive.Length * 2 / 3)],
            "flipped" => Flip(archive, MiddleOf(archive, entries[layer])),
            "not-a-tar" => Encoding.UTF8.GetBytes(new string('x', 4096)),
            "missing-layer" => Rewrite(entries, layer, null),
            "wrong-diff-id" => LegacyLayer(entries, layer, new LayerBuilder().File("other", "content").Tar()),
            _ => [],
        };

        var error = Assert.Throws<ArchiveException>(() => ImageArchiveReader.Read(_target, new MemoryStream(bad)));

        Assert.StartsWith("archive", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        AssertTargetEmpty();
    }

    [Fact]
    public void FailedLoadKeepsBlobsThatWereAlreadyInTheStore()
    {
        var image = TestImage.Create(layers: 1, randomBytes: 10_000);
        byte[] archive = Save(_source, ArchiveFormat.OciArchive, Put(_source, image, "docker.io/library/keep:1"));
        Put(_target, image);
        var before = _target.List().ToList();
        var entries = Entries(archive);
        entries.Remove("index.json");

        Assert.Throws<ArchiveException>(() => ImageArchiveReader.Read(_target, new MemoryStream(Tar(entries))));

        Assert.Equal(before.OrderBy(b => b.Digest.ToString()), _target.List().OrderBy(b => b.Digest.ToString()));
    }

    private static byte[] Flip(byte[] data, int offset)
    {
        var copy = data.ToArray();
        copy[offset] ^= 0xff;
        return copy;
    }

    /// <summary>Where the middle of <paramref name="content"/> (random bytes, so found once) is in <paramref name="archive"/>.</summary>
    private static int MiddleOf(byte[] archive, byte[] content)
    {
        int offset = archive.AsSpan().IndexOf(content.AsSpan(content.Length / 2, 256));
        Assert.True(offset > 0);
        return offset;
    }

    /// <summary>The archive with one entry replaced (or removed when <paramref name="content"/> is null).</summary>
    private static byte[] Rewrite(Dictionary<string, byte[]> entries, string name, byte[]? content)
    {
        var copy = new Dictionary<string, byte[]>(entries);
        if (content is null)
            copy.Remove(name);
        else
            copy[name] = content;
        return Tar(copy);
    }

    /// <summary>The archive with <paramref name="layer"/> moved to a legacy <c>&lt;id&gt;/layer.tar</c> path holding <paramref name="content"/>.</summary>
    private static byte[] LegacyLayer(Dictionary<string, byte[]> entries, string layer, byte[] content)
    {
        var copy = new Dictionary<string, byte[]>(entries);
        copy.Remove(layer);
        copy["0123abcd/layer.tar"] = content;
        copy["manifest.json"] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(entries["manifest.json"]).Replace(layer, "0123abcd/layer.tar"));
        return Tar(copy);
    }

    internal static byte[] Tar(Dictionary<string, byte[]> entries)
    {
        var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1a4 });
        }
        return output.ToArray();
    }

    /// <summary>What stdin and stdout are: no seeking, no length, no position.</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
