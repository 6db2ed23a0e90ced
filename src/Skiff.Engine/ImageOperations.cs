using Skiff.Images.Archive;
using Skiff.Images.Registry;
using Skiff.Images.Service;
using Skiff.Oci.Image;

namespace Skiff.Engine;

/// <summary>`pull`: the reference, the platform to pick from an index (null: this host's), and TLS to the registry.</summary>
public sealed record PullRequest
{
    public required string Reference { get; init; }
    public Platform? Platform { get; init; }
    public bool TlsVerify { get; init; } = true;
}

/// <summary>
/// What a pull gave: the image, the name it is known by now (familiar, fully tagged: "busybox:latest"), the
/// manifest digest, and whether anything had to be downloaded (else the local image was up to date).
/// </summary>
public sealed record PullResult(ImageInfo Image, string Name, string Digest, bool Downloaded);

/// <summary>`import`: where the tarball comes from (for messages), the name to give the image, and the --change/--message of docker import.</summary>
public sealed record ImportRequest
{
    public required string Source { get; init; }
    public string? Name { get; init; }
    public IReadOnlyList<string> Changes { get; init; } = [];
    public string? Message { get; init; }
}

/// <summary>An image a `load` stored, and the names of the archive it now has (familiar, as docker prints "Loaded image: NAME").</summary>
public sealed record LoadedImageResult(ImageInfo Image, IReadOnlyList<string> LoadedNames);

/// <summary>One line of `history`, newest first: docker's "&lt;missing&gt;" as the ID of every entry but the image's own.</summary>
public sealed record ImageHistoryEntry(string Id, DateTimeOffset? Created, string CreatedBy, long Size, string Comment);

/// <summary>
/// The engine's image use cases (`host.Images`): each records the events docker's daemon logs for it (pull, push,
/// tag, untag, delete, save, load, import), and failures of the store's disk come back as errors of their kind
/// naming the image and the store. The store itself is <see cref="ImageService"/> (`host.ImageStore`).
/// Safe for concurrent use, as the store is.
/// </summary>
public sealed class ImageOperations(Func<ImageService> store, EventService events)
{
    private ImageService Store => store();

    /// <summary>
    /// `images`: every image, or (unless <paramref name="all"/>) the ones other than intermediate images, that docker's
    /// <paramref name="filters"/> select (<see cref="ImageFilter"/>; `images NAME` is the filter reference=NAME).
    /// </summary>
    /// <exception cref="EngineException">InvalidArgument for a filter docker refuses; NotFound for a before or since image that does not exist.</exception>
    public IReadOnlyList<ImageInfo> List(bool all = true, IReadOnlyList<string>? filters = null)
    {
        var filter = ImageFilter.Parse(filters ?? [], Store.Resolve, DateTimeOffset.UtcNow);
        var images = Store.List();
        var intermediate = all ? new HashSet<string>() : ImageService.IntermediateImages(images);
        return [.. images.Where(image => !intermediate.Contains(image.Id)).Select(image => filter.Select(image, () => Labels(image))).OfType<ImageInfo>()];
    }

    private IReadOnlyDictionary<string, string> Labels(ImageInfo image) => Store.Config(image).Config?.Labels ?? new Dictionary<string, string>();

    /// <summary>
    /// docker's ancestor filter: the ID of the image <paramref name="nameOrId"/> names and those of the images made
    /// from it (whose layers extend its own); empty when it names none.
    /// </summary>
    public IReadOnlySet<string> AndDescendants(string nameOrId)
    {
        ImageInfo? image;
        try
        {
            image = Store.TryResolve(nameOrId);
        }
        catch (SkiffException)
        {
            image = null; // an ambiguous ID prefix: docker names no image either
        }
        if (image is null)
            return new HashSet<string>();
        int depth = image.Layers.Count;
        var found = new HashSet<string>(StringComparer.Ordinal) { image.Id };
        if (depth > 0)
            found.UnionWith(Store.List().Where(other => other.Layers.Count > depth && other.Layers[depth - 1].ChainId == image.Layers[^1].ChainId).Select(other => other.Id));
        return found;
    }

    /// <summary>`image inspect`: docker's document of the image.</summary>
    public ImageInspect Inspect(string nameOrId)
    {
        var image = Store.Resolve(nameOrId);
        return ImageInspect.From(image, Store.Config(image), Store.Snapshotter);
    }

    /// <summary>Downloads <see cref="PullRequest.Reference"/> (a layer at a time to <paramref name="progress"/>) and records docker's pull event.</summary>
    public async Task<PullResult> PullAsync(PullRequest request, IProgress<PullProgress>? progress = null, CancellationToken cancel = default)
    {
        var tracker = new DownloadTracker(progress);
        ImageInfo image;
        try
        {
            image = await Store.PullAsync(request.Reference, new PullOptions { Platform = request.Platform, TlsVerify = request.TlsVerify }, tracker, cancel).ConfigureAwait(false);
        }
        catch (Exception error) when (Described(error, $"cannot pull {request.Reference} into the image store {Store.Root}") is { } described)
        {
            throw described;
        }
        // docker's pull event names the reference as given, fully tagged: "busybox:latest", name "busybox".
        string name = image.RepoTags.Count > 0 ? ImageNames.Familiar(image.RepoTags[0]) : request.Reference;
        events.RecordImage("pull", name, ImageNames.Split(name).Repository);
        return new PullResult(image, name, image.RepoDigests.FirstOrDefault()?.Split('@')[1] ?? image.ManifestDigest, tracker.Downloaded);
    }

    /// <summary>Uploads a local image to <paramref name="destination"/> (default: the name it is asked by) and records docker's push event.</summary>
    public async Task<PushResult> PushAsync(string nameOrId, string? destination, PushOptions options, IProgress<BlobProgress>? progress = null,
        CancellationToken cancel = default)
    {
        var result = await Store.PushAsync(nameOrId, destination, options, progress, cancel).ConfigureAwait(false);
        string pushed = ImageNames.Familiar(result.Reference);
        events.RecordImage("push", pushed, ImageNames.Split(pushed).Repository);
        return result;
    }

    /// <summary>`tag`: gives the image <paramref name="source"/> names the name <paramref name="target"/>.</summary>
    public ImageInfo Tag(string source, string target)
    {
        Store.Tag(source, target);
        var image = Store.Resolve(target);
        events.RecordImage("tag", image.Id, ImageNames.Familiar(ImageService.NormalizeName(target)));
        return image;
    }

    /// <summary>`rmi`: the name (or, by ID or with <paramref name="force"/>, the image), with docker's untag and delete events.</summary>
    public RemovalReport Remove(string nameOrId, bool force = false) => RecordingRemovals(() => Store.Remove(nameOrId, force));

    /// <summary>`image prune`: dangling images (every one no container uses with <paramref name="all"/>) that docker's <paramref name="filters"/> select (<see cref="PruneFilter"/>: until, label, label!).</summary>
    /// <exception cref="EngineException">InvalidArgument for a filter docker refuses.</exception>
    public RemovalReport Prune(bool all, IReadOnlyList<string>? filters = null)
    {
        var filter = PruneFilter.Parse(filters ?? [], PruneFilter.ImageKeys, DateTimeOffset.UtcNow);
        return RecordingRemovals(() => Store.Prune(all, image => filter.Matches(image.Created, filter.UsesLabels ? Labels(image) : null)));
    }

    private RemovalReport RecordingRemovals(Func<RemovalReport> remove)
    {
        // The images before, to tell which image each untagged name was of.
        var before = Store.List();
        var report = remove();
        foreach (var name in report.Untagged)
            events.RecordImage("untag", before.FirstOrDefault(i => i.RepoTags.Contains(name) || i.RepoDigests.Contains(name))?.Id ?? name, ImageNames.Familiar(name));
        foreach (var id in report.Deleted)
            events.RecordImage("delete", id, id);
        return report;
    }

    /// <summary>`history`: how the image's layers were made, newest first; entries that made no layer (ENV, CMD...) are 0 bytes.</summary>
    public IReadOnlyList<ImageHistoryEntry> History(string nameOrId)
    {
        var image = Store.Resolve(nameOrId);
        var history = Store.Config(image).History ?? [.. image.Layers.Select(_ => new ImageHistory())];
        var entries = new List<ImageHistoryEntry>();
        int layer = 0;
        foreach (var entry in history)
        {
            // Entries that made a layer take the layers' sizes in order.
            long size = entry.EmptyLayer == true || layer >= image.Layers.Count ? 0 : image.Layers[layer++].Size;
            entries.Add(new ImageHistoryEntry("<missing>", entry.Created, entry.CreatedBy ?? "", size, entry.Comment ?? ""));
        }
        entries.Reverse();
        if (entries.Count > 0)
            entries[0] = entries[0] with { Id = image.Id };
        return entries;
    }

    /// <summary>
    /// `save`: the images are looked up now (an unknown name fails before anything is written); the returned save
    /// writes the archive to a stream and records docker's save events.
    /// </summary>
    public ImageSave Save(IReadOnlyList<string> names, ArchiveFormat format)
    {
        var images = names.Select(name => (Name: name, Image: Store.Resolve(name))).ToList();
        return new ImageSave(output =>
        {
            ImageArchiveWriter.Write(Store.Content, [.. images.Select(selected => ArchiveImageOf(selected.Name, selected.Image))], format, output);
            foreach (var (name, image) in images)
                events.RecordImage("save", image.Id, name);
        });
    }

    /// <summary>The image and the name it was asked by (an ID or digest saves it without names, as docker does).</summary>
    private static ArchiveImage ArchiveImageOf(string name, ImageInfo image)
        => new(Digest.Parse(image.ManifestDigest), [.. image.RepoTags.Where(tag => IsNamedBy(name, tag)).Take(1)]);

    private static bool IsNamedBy(string name, string tag)
    {
        try
        {
            return ImageService.NormalizeName(name) == tag;
        }
        catch (ImageException)
        {
            return false;
        }
    }

    /// <summary>`load`: the images of a docker-archive or oci-archive tar (plain, gzip or zstd), with docker's load events.</summary>
    public IReadOnlyList<LoadedImageResult> Load(Stream archive, string source)
    {
        try
        {
            // Held from before the first blob is stored until the images are recorded: garbage collection deletes
            // blobs no image names, and these have no image yet.
            using var shared = Store.LockShared();
            var results = new List<LoadedImageResult>();
            foreach (var loaded in ImageArchiveReader.Read(Store.Content, archive))
            {
                var image = Store.Register(loaded, loaded.Tags);
                events.RecordImage("load", image.Id, image.RepoTags.Count > 0 ? ImageNames.Familiar(image.RepoTags[0]) : image.Id);
                var names = image.RepoTags.Where(tag => loaded.Tags.Any(name => ImageService.NormalizeName(name) == tag)).Select(ImageNames.Familiar);
                results.Add(new LoadedImageResult(image, [.. names]));
            }
            return results;
        }
        catch (Exception error) when (Described(error, $"cannot load {source} into the image store {Store.Root}") is { } described)
        {
            throw described;
        }
    }

    /// <summary>`import`: a one-layer image of a root filesystem tarball (plain, gzip or zstd), with docker's import event.</summary>
    public ImageInfo Import(Stream tarball, ImportRequest request)
    {
        try
        {
            using var shared = Store.LockShared();
            var loaded = RootfsImporter.Import(Store.Content, tarball, new ImportOptions { Changes = request.Changes, Message = request.Message });
            var image = Store.Register(loaded, request.Name is null ? [] : [request.Name], namedHere: true);
            events.RecordImage("import", image.Id, image.Id);
            return image;
        }
        catch (Exception error) when (Described(error, $"cannot import {request.Source} into the image store {Store.Root}") is { } described)
        {
            throw described;
        }
    }

    /// <summary>A system failure (disk full, permission) said as a failure of <paramref name="what"/>; null for the engine's own errors, which say so already.</summary>
    private static Exception? Described(Exception error, string what)
        => SystemErrors.Describe(error, what) is var described && !ReferenceEquals(described, error) ? described : null;

    /// <summary>Notes whether a pull downloaded anything while passing its progress on.</summary>
    private sealed class DownloadTracker(IProgress<PullProgress>? inner) : IProgress<PullProgress>
    {
        private volatile bool _downloaded;

        public bool Downloaded => _downloaded;

        public void Report(PullProgress value)
        {
            if (value.Phase is PullPhase.Downloading or PullPhase.Extracting or PullPhase.Complete)
                _downloaded = true;
            inner?.Report(value);
        }
    }
}

/// <summary>A `save` whose images are known: <see cref="WriteTo"/> writes the archive.</summary>
public sealed class ImageSave(Action<Stream> write)
{
    public void WriteTo(Stream output) => write(output);
}
