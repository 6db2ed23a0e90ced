using System.Text.Json;
using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Interop;
using Skiff.Oci.Image;
using Skiff.Storage.Content;
using Skiff.Storage.Metadata;
using Skiff.Storage.Snapshots;

namespace Skiff.Images.Service;

/// <summary>Which snapshotter a store uses; fixed when the store is created.</summary>
public enum SnapshotterKind
{
    Overlay,
    Copy,
}

public sealed record ImageServiceOptions
{
    /// <summary>The store root (the engine's paths policy chooses it: Skiff.Engine.EngineOptions.Resolve).</summary>
    public required string Root { get; init; }

    /// <summary>Short-name search and insecure registries; default: <see cref="RegistriesConfig.Load"/>.</summary>
    public RegistriesConfig? Registries { get; init; }

    /// <summary>Registry credentials; default: where podman and docker keep them (<see cref="CredentialStore"/>).</summary>
    public ICredentialSource? Credentials { get; init; }

    /// <summary>For a new store: null picks overlay when the kernel has it, else copy. An existing store keeps its own.</summary>
    public SnapshotterKind? Snapshotter { get; init; }

    /// <summary>How long an operation waits for the store lock (a removal waits for pulls to finish).</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Layers downloaded and unpacked at the same time.</summary>
    public int MaxConcurrentLayers { get; init; } = Math.Max(4, Environment.ProcessorCount);
}

/// <summary>
/// The local image store: blobs in a <see cref="ContentStore"/>, image metadata in a <see cref="MetadataStore"/>,
/// unpacked layers in a snapshotter, all under one root:
/// <code>
/// &lt;root&gt;/content/        blobs and partial downloads
/// &lt;root&gt;/metadata.db     images, tags, layers, snapshots (SQLite)
/// &lt;root&gt;/overlay/ or copy/  committed layers and container snapshots
/// &lt;root&gt;/lock            shared by pulls, exclusive for garbage collection
/// </code>
/// What the database lists is complete on disk: files are created first (each atomically), rows after; removal
/// deletes rows first, files after. So a crash leaves at most files no row names, which garbage collection removes.
/// </summary>
public sealed partial class ImageService : IDisposable
{
    private readonly ImageServiceOptions _options;
    private readonly string _lockPath;

    private ImageService(ImageServiceOptions options, ContentStore content, MetadataStore metadata, ISnapshotter snapshotter, RegistriesConfig registries)
    {
        _options = options;
        Root = Path.GetFullPath(options.Root);
        _lockPath = Path.Combine(Root, "lock");
        Content = content;
        Metadata = metadata;
        Snapshotter = snapshotter;
        Registries = registries;
    }

    public string Root { get; }
    public ContentStore Content { get; }
    public MetadataStore Metadata { get; }
    public ISnapshotter Snapshotter { get; }
    public RegistriesConfig Registries { get; }

    /// <summary>Opens (creating if needed) the store at <see cref="ImageServiceOptions.Root"/>.</summary>
    public static ImageService Open(ImageServiceOptions options)
    {
        string root = Path.GetFullPath(options.Root);
        try
        {
            PrivateStore.EnsureDirectory(root);
            var registries = options.Registries ?? RegistriesConfig.Load();
            var content = new ContentStore(Path.Combine(root, "content"));
            var snapshotter = OpenSnapshotter(root, options.Snapshotter);
            var metadata = MetadataStore.Open(Path.Combine(root, "metadata.db"));
            return new ImageService(options, content, metadata, snapshotter, registries);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            throw new ImageException($"cannot open the image store {root}: {error.Message}", error);
        }
    }

    public void Dispose() => Metadata.Dispose();

    private static ISnapshotter OpenSnapshotter(string root, SnapshotterKind? wanted)
    {
        string overlay = Path.Combine(root, "overlay");
        string copy = Path.Combine(root, "copy");
        var kind = Directory.Exists(overlay) ? SnapshotterKind.Overlay
            : Directory.Exists(copy) ? SnapshotterKind.Copy
            : wanted ?? (KernelHasOverlay() ? SnapshotterKind.Overlay : SnapshotterKind.Copy);
        return kind == SnapshotterKind.Overlay ? new OverlaySnapshotter(overlay) : new CopySnapshotter(copy);
    }

    private static bool KernelHasOverlay()
        => File.Exists("/proc/filesystems") && File.ReadLines("/proc/filesystems").Any(line => line.EndsWith("\toverlay", StringComparison.Ordinal))
           || Directory.Exists("/sys/module/overlay");

    /// <summary>
    /// Holds the store lock shared until disposed. Anything that writes blobs or layers before recording them (a pull,
    /// <c>load</c>, <c>import</c>, a build) must hold it from the first file to the recording transaction, or a
    /// concurrent garbage collection takes those files for a crashed writer's leftovers.
    /// </summary>
    public IDisposable LockShared() => StoreLock.Shared(_lockPath, _options.LockTimeout);

    /// <summary>Every local image, newest first.</summary>
    public IReadOnlyList<ImageInfo> List() => [.. Metadata.ListImages().Select(Describe)];

    /// <summary>
    /// The untagged images among <paramref name="images"/> that other images were made from (a commit's parent that
    /// lost its name, a build's steps): their layers are the first layers of another image. docker calls them
    /// intermediate and lists them only with <c>images -a</c>; untagged images nothing was made from are dangling.
    /// "Made from" is the <see cref="ImageInfo.Parent"/> link (a build's metadata step makes a child with the same
    /// layers), or read from the layers: images recorded before parent links were kept have none.
    /// </summary>
    public static IReadOnlySet<string> IntermediateImages(IReadOnlyList<ImageInfo> images)
    {
        var parents = images.Select(image => image.Parent).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var intermediate = new HashSet<string>(images.Where(image => image.RepoTags.Count == 0 && parents.Contains(image.Id)).Select(image => image.Id), StringComparer.Ordinal);
        foreach (var image in images.Where(image => image.RepoTags.Count == 0 && image.Layers.Count > 0 && !intermediate.Contains(image.Id)))
        {
            // A chain ID stands for all the layers up to it.
            int depth = image.Layers.Count;
            string top = image.Layers[^1].ChainId;
            if (images.Any(other => other.Layers.Count > depth && other.Layers[depth - 1].ChainId == top))
                intermediate.Add(image.Id);
        }
        return intermediate;
    }

    /// <summary>
    /// The local image <paramref name="nameOrId"/> designates, as docker resolves it: a full ID (with or without
    /// <c>sha256:</c>), a name (short names through the search registries), <c>name@digest</c> or a manifest digest,
    /// then a unique ID prefix. Throws <see cref="ImageNotFoundException"/>.
    /// </summary>
    public ImageInfo Resolve(string nameOrId) => TryResolve(nameOrId) ?? throw new ImageNotFoundException(nameOrId);

    public ImageInfo? TryResolve(string nameOrId) => FindRecord(nameOrId) is { } record ? Describe(record) : null;

    private ImageRecord? FindRecord(string nameOrId)
    {
        if (Digest.TryParse(nameOrId, out var digest))
            return Metadata.FindImage(digest.ToString()) ?? Metadata.ResolveDigest(digest.ToString());
        if (IsHex(nameOrId) && nameOrId.Length == 64 && Metadata.FindImage($"{Digest.Sha256}:{nameOrId}") is { } byId)
            return byId;
        if (TryCandidates(nameOrId) is { } candidates)
        {
            foreach (var reference in candidates)
            {
                var found = reference.Digest is { } referenceDigest
                    ? Metadata.ResolveDigest($"{reference.Name}@{referenceDigest}")
                    : Metadata.ResolveTag(TagName(reference));
                if (found is not null)
                    return found;
            }
        }
        if (IsHex(nameOrId))
        {
            var matches = Metadata.FindImagesByIdPrefix($"{Digest.Sha256}:{nameOrId}");
            if (matches.Count > 1)
                throw new ImageException(ErrorKind.InvalidArgument, $"short ID {nameOrId} is ambiguous: it starts {matches.Count} image IDs; give more digits");
            if (matches.Count == 1)
                return matches[0];
        }
        return null;
    }

    private IReadOnlyList<ImageReference>? TryCandidates(string name)
    {
        try
        {
            return Registries.Candidates(name);
        }
        catch (InvalidReferenceException)
        {
            return null;
        }
    }

    private static bool IsHex(string value) => value.Length > 0 && value.All(char.IsAsciiHexDigitLower);

    /// <summary>The name a tag is stored under: <c>docker.io/library/busybox:latest</c> (a digest in the reference is not part of it).</summary>
    private static string TagName(ImageReference reference) => $"{reference.Name}:{reference.Tag ?? ImageReference.DefaultTag}";

    private ImageInfo Describe(ImageRecord record)
        => new(record.Id, Metadata.TagsOf(record.Id), [.. Metadata.RepoDigestsOf(record.Id).Select(r => r.Name)], record.Created,
            record.ManifestDigest, record.ConfigDigest, Metadata.LayersOf(record.Id), record.Parent, record.LastTagged);

    /// <summary>The image's config (what <c>image inspect</c> shows and what a container is made from).</summary>
    public ImageConfig Config(ImageInfo image)
    {
        using var stream = Content.Open(Digest.Parse(image.ConfigDigest));
        return ParseConfig(stream, image.ConfigDigest);
    }

    private static ImageConfig ParseConfig(Stream stream, string digest)
    {
        try
        {
            return JsonSerializer.Deserialize(stream, ImageJsonContext.Default.ImageConfig)
                ?? throw new ImageException(ErrorKind.InvalidArgument, $"image config {digest}: the JSON is null");
        }
        catch (JsonException error)
        {
            throw new ImageException(ErrorKind.InvalidArgument, $"image config {digest}: not a valid image config ({error.Message.ReplaceLineEndings(" ")})", error);
        }
    }

    /// <summary>
    /// Gives the image <paramref name="source"/> the name <paramref name="target"/> (moved from another image if it
    /// had it), and makes now its <see cref="ImageInfo.LastTagTime"/>.
    /// </summary>
    public void Tag(string source, string target)
    {
        var image = Resolve(source);
        var reference = ParseTarget(target);
        if (reference.Digest is not null)
            throw new ImageException(ErrorKind.InvalidArgument, $"tag {target}: a tag cannot contain a digest");
        if (!Metadata.Tag(TagName(reference), image.Id, DateTimeOffset.UtcNow))
            throw new ImageNotFoundException(source);
    }

    private ImageReference ParseTarget(string name)
    {
        try
        {
            return Registries.Candidates(name)[0];
        }
        catch (InvalidReferenceException error)
        {
            throw new ImageException(error.Message, error);
        }
    }

    /// <summary>
    /// docker's <c>rmi</c>: a name removes that tag, and the image with it when it was its last name; an ID removes
    /// the image, which needs <paramref name="force"/> when it has several names. An image a container's rootfs was
    /// made from stays: without <paramref name="force"/> that is an error, with it only the names go. An image other
    /// images were made from (their <see cref="ImageInfo.Parent"/>) stays too: by ID that is an error even with
    /// <paramref name="force"/>, by its last name only the name goes. A deleted image takes its untagged parents
    /// along while nothing else holds them, as docker's rmi does. Then every blob and layer no remaining image
    /// needs is freed. Under the exclusive store lock from the first check to the last row: a pull recording the
    /// image or a container's rootfs being made from it meanwhile (both hold the lock shared) comes wholly before or
    /// after, so neither is undone half-way nor finds its image gone between recording and reading it back.
    /// </summary>
    public RemovalReport Remove(string nameOrId, bool force = false)
    {
        using var exclusive = LockExclusive();
        var image = Resolve(nameOrId);
        var untagged = new List<string>();
        var deleted = new List<string>();
        string? removedTag = image.RepoTags.FirstOrDefault(tag => TryCandidates(nameOrId)?.Any(c => c.Digest is null && TagName(c) == tag) == true);
        bool byName = removedTag is not null;
        if (byName && image.RepoTags.Count > 1)
        {
            Metadata.RemoveTag(removedTag!);
            return new RemovalReport([removedTag!], [], 0);
        }
        bool hasChildren = Metadata.ChildrenOf(image.Id).Count > 0;
        if (!byName && hasChildren)
            throw new ImageException(ErrorKind.FailedPrecondition, $"conflict: unable to delete {image.ShortId} (cannot be forced) - image has dependent child images");
        if (!byName && image.RepoTags.Count > 1 && !force)
            throw new ImageException(ErrorKind.FailedPrecondition, $"image {image.ShortId} has {image.RepoTags.Count} names ({string.Join(", ", image.RepoTags)}): remove them by name, or force the removal");
        var users = Metadata.ContainersUsing(image.Id);
        if (users.Count > 0)
        {
            if (!force)
                throw new ImageException(ErrorKind.FailedPrecondition, $"image {image.ShortId} is used by container {users[0]}: remove the container first, or force the removal to remove only its names");
            foreach (string tag in image.RepoTags)
            {
                Metadata.RemoveTag(tag);
                untagged.Add(tag);
            }
            return new RemovalReport(untagged, [], 0);
        }
        if (hasChildren)
        {
            Metadata.RemoveTag(removedTag!);
            return new RemovalReport([removedTag!], [], 0);
        }
        untagged.AddRange(image.RepoTags);
        untagged.AddRange(image.RepoDigests);
        Metadata.DeleteImage(image.Id);
        deleted.Add(image.Id);
        DeleteReleasedParents(image.Parent, untagged, deleted);
        return new RemovalReport(untagged, deleted, CollectGarbageLocked());
    }

    /// <summary>
    /// Deletes <paramref name="parentId"/> and its own parents, up the chain, while each has no name, no other child
    /// and no container: docker's rmi (without --no-prune) leaves no untagged ancestor that only the deleted image held.
    /// </summary>
    private void DeleteReleasedParents(string? parentId, List<string> untagged, List<string> deleted)
    {
        while (parentId is not null && Metadata.FindImage(parentId) is { } record)
        {
            var parent = Describe(record);
            if (parent.RepoTags.Count > 0 || Metadata.ChildrenOf(parent.Id).Count > 0 || Metadata.ContainersUsing(parent.Id).Count > 0)
                return;
            untagged.AddRange(parent.RepoDigests);
            Metadata.DeleteImage(parent.Id);
            deleted.Add(parent.Id);
            parentId = parent.Parent;
        }
    }

    /// <summary>
    /// <c>image prune</c>: removes dangling images (no name), or with <paramref name="all"/> every image no container
    /// uses, among those <paramref name="selected"/> accepts if given (docker's prune filters), then collects garbage. An image that remaining images
    /// were made from stays (docker: dangling is no name and no child). Returns the removed image IDs and the bytes freed.
    /// Under the exclusive store lock, as <see cref="Remove"/>.
    /// </summary>
    public RemovalReport Prune(bool all, Func<ImageInfo, bool>? selected = null)
    {
        using var exclusive = LockExclusive();
        var deleted = new List<string>();
        var untagged = new List<string>();
        // Until nothing more goes: removing a child can release its parent.
        for (bool removed = true; removed;)
        {
            removed = false;
            foreach (var image in List())
            {
                if ((!all && image.RepoTags.Count > 0) || Metadata.ContainersUsing(image.Id).Count > 0 || Metadata.ChildrenOf(image.Id).Count > 0
                    || (selected is not null && !selected(image)))
                    continue;
                Metadata.DeleteImage(image.Id);
                untagged.AddRange(image.RepoTags);
                deleted.Add(image.Id);
                removed = true;
            }
        }
        return new RemovalReport(untagged, deleted, CollectGarbageLocked());
    }

    /// <summary>
    /// Frees every blob and layer no image reaches, and the leftovers of crashed pulls (files with no row, partial
    /// downloads). Rows go in one transaction first, files after, under the exclusive store lock. Returns bytes freed.
    /// </summary>
    public long CollectGarbage()
    {
        using var exclusive = LockExclusive();
        return CollectGarbageLocked();
    }

    private StoreLock LockExclusive() => StoreLock.Exclusive(_lockPath, _options.LockTimeout);

    /// <summary>
    /// <see cref="CollectGarbage"/> for a caller that holds the exclusive lock already (<see cref="Remove"/>,
    /// <see cref="Prune"/>): a second flock of the same file would conflict with the first even in one process.
    /// </summary>
    private long CollectGarbageLocked()
    {
        var snapshotSizes = Metadata.ListSnapshots().ToDictionary(s => s.ChainId, s => s.Size);
        var collected = Metadata.CollectGarbage();
        long freed = 0;
        foreach (string chainId in collected.Snapshots)
        {
            if (TryRemoveLayer(Digest.Parse(chainId)))
                freed += snapshotSizes.GetValueOrDefault(chainId);
        }
        foreach (string blob in collected.Blobs)
        {
            var digest = Digest.Parse(blob);
            long size = Content.Exists(digest) ? Content.Info(digest).Size : 0;
            if (Content.Delete(digest))
                freed += size;
        }

        // Files no row names: what a pull killed between committing files and recording them left behind.
        var knownBlobs = Metadata.ListBlobs().Select(blob => blob.Digest).ToHashSet(StringComparer.Ordinal);
        foreach (var blob in Content.List())
        {
            if (!knownBlobs.Contains(blob.Digest.ToString()) && Content.Delete(blob.Digest))
                freed += blob.Size;
        }
        var knownLayers = Metadata.ListSnapshots().Select(s => s.ChainId).ToHashSet(StringComparer.Ordinal);
        foreach (var chainId in Snapshotter.Layers())
        {
            if (!knownLayers.Contains(chainId.ToString()))
                TryRemoveLayer(chainId);
        }
        foreach (var (reference, offset) in Content.ListIngests())
        {
            if (Content.AbortIngest(reference))
                freed += offset;
        }
        return freed;
    }

    private bool TryRemoveLayer(Digest chainId)
    {
        try
        {
            return Snapshotter.RemoveLayer(chainId);
        }
        catch (SnapshotException)
        {
            // A container snapshot still stacks it; it is removed by the first collection after that container.
            return false;
        }
    }

    /// <summary>What <c>system df</c> shows: image count, unpacked and compressed bytes, and what pruning unused images would free.</summary>
    public DiskUsage DiskUsage()
    {
        var images = List();
        var active = images.Where(image => Metadata.ContainersUsing(image.Id).Count > 0).ToList();
        var sizes = Metadata.ListSnapshots().ToDictionary(s => s.ChainId, s => s.Size);
        var blobs = Metadata.ListBlobs().ToDictionary(b => b.Digest, b => b.Size);
        var activeChains = active.SelectMany(image => image.Layers.Select(l => l.ChainId)).ToHashSet();
        var activeBlobs = active.SelectMany(image => image.Layers.Select(l => l.BlobDigest).Append(image.ConfigDigest).Append(image.ManifestDigest)).ToHashSet();
        long layers = sizes.Values.Sum();
        long blobBytes = blobs.Values.Sum();
        return new DiskUsage(images.Count, active.Count, blobs.Count, blobs.Keys.Count(activeBlobs.Contains), layers, blobBytes,
            layers - sizes.Where(s => activeChains.Contains(s.Key)).Sum(s => s.Value),
            blobBytes - blobs.Where(b => activeBlobs.Contains(b.Key)).Sum(b => b.Value));
    }

    /// <summary>
    /// Creates container <paramref name="containerId"/>'s writable rootfs over the layers of image
    /// <paramref name="imageId"/> and returns its mount (overlay: lower dirs topmost first, upper and work dirs; copy
    /// snapshotter: a bind mount of a private copy). The image cannot be removed until <see cref="RemoveRootfs"/>.
    /// </summary>
    public SnapshotMount PrepareRootfs(string imageId, string containerId)
    {
        using var shared = LockShared();
        var image = Resolve(imageId);
        var mount = Snapshotter.Prepare(containerId, image.ChainIds);
        try
        {
            Metadata.PutRootfs(containerId, image.Id);
        }
        catch
        {
            Snapshotter.Remove(containerId);
            throw;
        }
        return mount;
    }

    /// <summary>Unmounts (if still mounted) and deletes a container's rootfs; false when there was none.</summary>
    public bool RemoveRootfs(string containerId)
    {
        bool removed = Snapshotter.Remove(containerId);
        return Metadata.RemoveRootfs(containerId) || removed;
    }
}
