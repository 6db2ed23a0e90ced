using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Oci.Image;
using Skiff.Storage.Content;
using Skiff.Storage.Snapshots;

namespace Skiff.Images.Service;

/// <summary>What <see cref="ImageService.Commit"/> makes an image of, and how the image describes itself.</summary>
public sealed record CommitRequest
{
    /// <summary>The container whose rootfs (made by <see cref="ImageService.PrepareRootfs"/>) is committed.</summary>
    public required string ContainerId { get; init; }

    /// <summary>The image the container's rootfs was made from: the new image is it plus one layer.</summary>
    public required string ImageId { get; init; }

    /// <summary>
    /// The run configuration to start from, before <see cref="Changes"/>: docker commits the container's own
    /// (its Cmd, Env with the <c>-e</c> values, ...). Null: the parent image's.
    /// </summary>
    public ImageExecutionConfig? Config { get; init; }

    /// <summary><c>--change</c> instructions (Dockerfile syntax, see <see cref="ImageChanges"/>), applied in order.</summary>
    public IReadOnlyList<string> Changes { get; init; } = [];

    public string? Author { get; init; }

    /// <summary>The comment of the new history entry (<c>commit -m</c>).</summary>
    public string? Comment { get; init; }

    /// <summary>The history entry's <c>created_by</c>: docker puts the container's command there.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>Names for the new image (<c>REPO[:TAG]</c>); none makes an untagged image.</summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    /// <summary>The image's creation time; now by default.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>Container paths mounted over at run time: left out of the layer while they hold nothing else (docker's init layer).</summary>
    public MountTargets MountTargets { get; init; } = MountTargets.None;

    /// <summary>
    /// How hard the layer is gzipped. A build step's layer is written at every rebuild and read only by what comes
    /// after it on this host, where <see cref="CompressionLevel.Fastest"/> saves most of the CPU a commit costs.
    /// </summary>
    public CompressionLevel Compression { get; init; } = CompressionLevel.Optimal;

    /// <summary>
    /// The container's rootfs is unmounted and will be removed right after this commit (a build step's): its overlay
    /// upper dir may then become the new layer's snapshot, moved rather than unpacked again from the blob just
    /// written (see <see cref="UpperDirAdoption"/>). When it does, the rootfs is left without its changes, whether the
    /// commit then succeeds or not. Ignored where it cannot apply (a copy snapshot, a rootfs still mounted): the
    /// layer is unpacked as for any commit.
    /// </summary>
    public bool ConsumeRootfs { get; init; }
}

/// <summary>What <see cref="ImageService.Configure"/> makes an image of: the parent's layers with another run configuration.</summary>
public sealed record ConfigureRequest
{
    public required string ImageId { get; init; }
    public required ImageExecutionConfig Config { get; init; }
    /// <summary>The new history entry's <c>created_by</c>: the instruction, as docker build records it.</summary>
    public required string CreatedBy { get; init; }
    public IReadOnlyList<string> Names { get; init; } = [];
    /// <summary>The image's creation time; now by default.</summary>
    public DateTimeOffset? Created { get; init; }
}

/// <summary>Images made from containers: <c>skiff commit</c>, <c>skiff diff</c>, and the builder's steps.</summary>
public sealed partial class ImageService
{
    /// <summary>
    /// What container <paramref name="containerId"/> changed in its rootfs, as <c>docker diff</c> lists it: read from
    /// the overlay upper dir, or (copy snapshotter) found by comparing the private copy with the layers.
    /// </summary>
    public IReadOnlyList<FileChange> ContainerChanges(string containerId, MountTargets? mountTargets = null)
    {
        var rootfs = ContainerLayers(containerId, "diff");
        return rootfs.IsCopy
            ? LayerChanges.Compare(rootfs.Directory, rootfs.Lower, mountTargets)
            : LayerChanges.Read(rootfs.Directory, rootfs.Lower, mountTargets);
    }

    /// <summary>
    /// Makes a new image from the parent image and what the container changed (its overlay upper dir, or what its
    /// private copy differs in) as one more layer: a gzip layer tar with OCI whiteouts, compressed, hashed (blob digest and diff ID) and stored in one
    /// streaming pass; a config with the parent's plus the new diff ID, a history entry and the run configuration
    /// with <see cref="CommitRequest.Changes"/> applied; an OCI manifest. The layer is unpacked into its snapshot
    /// from the stored blob (so running the image uses exactly what was committed), or with
    /// <see cref="CommitRequest.ConsumeRootfs"/> the upper dir is made that snapshot, and the image is recorded
    /// under <see cref="CommitRequest.Names"/>, with the parent as its <see cref="ImageInfo.Parent"/>. A container
    /// without changes still gets a layer (an empty tar), as docker does. The caller pauses a running container if
    /// it wants a consistent layer. On any failure the blobs, snapshot and rows this commit added are removed again.
    /// </summary>
    public ImageInfo Commit(CommitRequest request)
    {
        using var shared = LockShared();
        var parent = Resolve(request.ImageId);
        var parentConfig = Config(parent);
        var runConfig = ImageChanges.Apply(request.Config ?? parentConfig.Config, request.Changes);
        var rootfs = ContainerLayers(request.ContainerId, "commit");
        var parentManifest = Manifest(parent);

        // Planned before the layer is written, which reads the same unchanged tree.
        var adoption = request.ConsumeRootfs && !rootfs.IsCopy && !IsMountedUpper(rootfs.Directory)
            ? UpperDirAdoption.Plan(rootfs.Directory, request.MountTargets, rootfs.Lower)
            : null;
        var staged = new StagedBlobs(Content);
        Digest? newSnapshot = null;
        try
        {
            Digest diffId = default;
            var layerBlob = staged.Add(output =>
            {
                using var gzip = new GZipStream(output, request.Compression, leaveOpen: true);
                using var tar = new HashingStream(gzip, Digest.Sha256);
                if (rootfs.IsCopy)
                    TreeArchiver.WriteChanges(rootfs.Directory, LayerChanges.Compare(rootfs.Directory, rootfs.Lower, request.MountTargets), tar);
                else
                    TreeArchiver.WriteLayer(rootfs.Directory, tar, request.MountTargets, rootfs.Lower);
                diffId = tar.Digest;
            });
            var diffIds = parent.Layers.Select(layer => Digest.Parse(layer.DiffId)).Append(diffId).ToList();
            var chainId = ChainId.ForLayers(diffIds)[^1];
            if (!Snapshotter.HasLayer(chainId))
            {
                newSnapshot = chainId;
                // Otherwise Register unpacks the blob into the layer's snapshot.
                if (adoption is not null)
                    Snapshotter.TryAdoptLayer(chainId, request.ContainerId, adoption.Apply);
            }

            var created = request.Created ?? DateTimeOffset.UtcNow;
            byte[] config = DerivedConfig(parent, runConfig, diffId, created, request.Author, request.Comment, request.CreatedBy ?? "skiff commit");
            var configBlob = staged.Add(config);
            var configDescriptor = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configBlob.Digest, Size = configBlob.Size };
            var layers = parentManifest.Layers.Select(OciLayerDescriptor).Append(StagedBlobs.LayerDescriptor(layerBlob, LayerCompression.Gzip)).ToList();
            var loaded = staged.StoreWithManifest(configDescriptor, layers, diffIds, []);
            return Register(loaded, request.Names, namedHere: true, parentId: parent.Id);
        }
        catch
        {
            if (newSnapshot is { } chainId)
                TryRemoveLayer(chainId);
            staged.RollBack();
            throw;
        }
    }

    /// <summary>
    /// Makes a new image of the parent's layers with another run configuration and one more history entry, marked
    /// <c>empty_layer</c>: what a build's ENV, CMD, LABEL ... make. On failure the blobs it added are removed again.
    /// </summary>
    public ImageInfo Configure(ConfigureRequest request)
    {
        using var shared = LockShared();
        var parent = Resolve(request.ImageId);
        var parentManifest = Manifest(parent);
        var staged = new StagedBlobs(Content);
        try
        {
            byte[] config = DerivedConfig(parent, request.Config, diffId: null, request.Created ?? DateTimeOffset.UtcNow, author: null, comment: null, request.CreatedBy);
            var configBlob = staged.Add(config);
            var configDescriptor = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configBlob.Digest, Size = configBlob.Size };
            var diffIds = parent.Layers.Select(layer => Digest.Parse(layer.DiffId)).ToList();
            var loaded = staged.StoreWithManifest(configDescriptor, [.. parentManifest.Layers.Select(OciLayerDescriptor)], diffIds, []);
            return Register(loaded, request.Names, namedHere: true, parentId: parent.Id);
        }
        catch
        {
            staged.RollBack();
            throw;
        }
    }

    /// <summary>
    /// The empty image a build FROM scratch starts from: no layers, this host's platform, an empty configuration. It
    /// is the same image every time (its config has no creation time), so builds FROM scratch share it and their cache.
    /// </summary>
    public ImageInfo Scratch()
    {
        var host = Platform.Host;
        var config = new JsonObject
        {
            ["architecture"] = host.Architecture,
            ["os"] = host.OS,
            ["config"] = new JsonObject(),
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray() },
        };
        if (host.Variant is { } variant)
            config["variant"] = variant;
        using var shared = LockShared();
        var staged = new StagedBlobs(Content);
        try
        {
            var configBlob = staged.Add(System.Text.Encoding.UTF8.GetBytes(config.ToJsonString()));
            var descriptor = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configBlob.Digest, Size = configBlob.Size };
            if (TryResolve(configBlob.Digest.ToString()) is { } existing)
                return existing;
            return Register(staged.StoreWithManifest(descriptor, [], [], []), [], namedHere: true);
        }
        catch
        {
            staged.RollBack();
            throw;
        }
    }

    /// <summary>Whether an overlay mount of this namespace writes into <paramref name="upperDirectory"/>.</summary>
    private static bool IsMountedUpper(string upperDirectory)
    {
        string option = "upperdir=" + Path.GetFullPath(upperDirectory);
        return MountInfo.Read().Any(entry => entry.FileSystemType == "overlay" && entry.SuperOptions.Split(',').Contains(option));
    }

    private ImageManifest Manifest(ImageInfo image)
    {
        using var stream = Content.Open(Digest.Parse(image.ManifestDigest));
        return JsonSerializer.Deserialize(stream, ImageJsonContext.Default.ImageManifest)
            ?? throw new ImageException(ErrorKind.Internal, $"image {image.ShortId}: its manifest is null");
    }

    /// <summary>
    /// Where a container's changes are: its overlay upper dir, or its whole private copy (<paramref name="IsCopy"/>),
    /// over the image layers (topmost first).
    /// </summary>
    private sealed record ContainerRootfs(string Directory, IReadOnlyList<string> Lower, bool IsCopy);

    private ContainerRootfs ContainerLayers(string containerId, string command)
    {
        SnapshotMount mount;
        try
        {
            mount = Snapshotter.GetMount(containerId);
        }
        catch (SnapshotException error)
        {
            throw new ImageException($"{command}: container {containerId} has no rootfs in the image store ({error.Message})", error);
        }
        return mount.UpperDir is { } upper
            ? new ContainerRootfs(upper, mount.LowerDirs, IsCopy: false)
            : new ContainerRootfs(mount.Source, mount.LowerDirs, IsCopy: true);
    }

    /// <summary>
    /// The parent's config document with the new layer (none: a history entry with <c>empty_layer</c>, as a build's
    /// metadata instructions make), history entry and run configuration. Edited as JSON rather than through
    /// <see cref="ImageConfig"/>, so what that record does not model (Healthcheck, Shell, OnBuild, os.version, ...)
    /// is kept as the parent had it.
    /// </summary>
    private byte[] DerivedConfig(ImageInfo parent, ImageExecutionConfig runConfig, Digest? diffId, DateTimeOffset created, string? author, string? comment, string createdBy)
    {
        JsonObject document;
        using (var stream = Content.Open(Digest.Parse(parent.ConfigDigest)))
            document = JsonNode.Parse(stream) as JsonObject ?? throw new ImageException(ErrorKind.InvalidArgument, $"image config {parent.ConfigDigest}: not a JSON object");
        string time = created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFK", System.Globalization.CultureInfo.InvariantCulture);
        document["created"] = time;
        if (author is { Length: > 0 })
            document["author"] = author;
        else
            document.Remove("author");

        SetRunConfig(document, runConfig);

        if (diffId is { } layer)
        {
            var rootfs = document["rootfs"] as JsonObject ?? throw new ImageException(ErrorKind.InvalidArgument, $"image config {parent.ConfigDigest}: it has no rootfs");
            if (rootfs["diff_ids"] is not JsonArray diffIds)
                rootfs["diff_ids"] = diffIds = [];
            diffIds.Add((JsonNode)JsonValue.Create(layer.ToString()));
        }

        if (document["history"] is not JsonArray history)
            document["history"] = history = [];
        var entry = new JsonObject { ["created"] = time, ["created_by"] = createdBy };
        if (author is { Length: > 0 })
            entry["author"] = author;
        if (comment is { Length: > 0 })
            entry["comment"] = comment;
        if (diffId is null)
            entry["empty_layer"] = true;
        history.Add((JsonNode)entry);
        return ConfigBytes(document);
    }

    /// <summary>Sets the run configuration of a config document to <paramref name="runConfig"/>, leaving what that record does not model.</summary>
    private static void SetRunConfig(JsonObject document, ImageExecutionConfig runConfig)
    {
        if (document["config"] is not JsonObject execution)
            document["config"] = execution = [];
        var replacement = JsonSerializer.SerializeToNode(runConfig, ImageJsonContext.Default.ImageExecutionConfig)!.AsObject();
        foreach (var property in ImageJsonContext.Default.ImageExecutionConfig.Properties)
        {
            if (replacement[property.Name] is { } value)
                execution[property.Name] = value.DeepClone();
            else
                execution.Remove(property.Name);
        }
    }

    private static byte[] ConfigBytes(JsonObject document)
    {
        var bytes = new MemoryStream();
        // The default encoder writes '+' as \u002B, and Go's time parsing (podman, skopeo, docker) takes a
        // timestamp's JSON bytes without unescaping them: "+00:00" offsets from the parent must stay literal.
        using (var writer = new Utf8JsonWriter(bytes, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            document.WriteTo(writer);
        return bytes.ToArray();
    }

    /// <summary>
    /// A parent layer's descriptor as an OCI manifest lists it: the new manifest is OCI, and a docker media type in
    /// an OCI manifest is something skopeo and registries may refuse.
    /// </summary>
    private static Descriptor OciLayerDescriptor(Descriptor layer) => layer with
    {
        MediaType = layer.MediaType switch
        {
            MediaTypes.DockerLayerGzip => MediaTypes.OciLayerGzip,
            "application/vnd.docker.image.rootfs.diff.tar" => MediaTypes.OciLayer,
            var other => other,
        },
    };
}
