using Skiff.Engine;
using Skiff.Images.Service;
using Skiff.Storage;

namespace Skiff.Build.Execution;

/// <summary>
/// The build cache's row of `system df`: its entries and cache mounts; the size of the cache mounts and of the step
/// images only the cache keeps (no name, no image made from them, no container), which is what `builder prune` frees.
/// </summary>
public sealed record BuildCacheUsage(int Entries, int CacheMounts, long Size, long Reclaimable)
{
    public static BuildCacheUsage Measure(EngineHost host, BuildStore store)
    {
        if (!store.Exists)
            return new(0, 0, 0, 0);
        IReadOnlyList<BuildCacheEntry> entries;
        using (var cache = store.OpenCache())
            entries = cache.List();
        var images = host.ImageStore.List();
        var cached = entries.Select(e => e.ImageId).ToHashSet(StringComparer.Ordinal);
        var parents = images.Select(i => i.Parent).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var onlyCached = images.Where(i => cached.Contains(i.Id) && i.RepoTags.Count == 0 && !parents.Contains(i.Id)).ToList();
        var onlyCachedIds = onlyCached.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        var layersElsewhere = images.Where(i => !onlyCachedIds.Contains(i.Id)).SelectMany(i => i.Layers).Select(l => l.ChainId).ToHashSet(StringComparer.Ordinal);
        long imageBytes = onlyCached.SelectMany(i => i.Layers).Where(l => !layersElsewhere.Contains(l.ChainId))
            .DistinctBy(l => l.ChainId).Sum(l => l.Size);
        int mounts = Directory.Exists(store.CacheMounts) ? Directory.GetDirectories(store.CacheMounts).Length : 0;
        long mountBytes = Directory.Exists(store.CacheMounts) ? DirectoryUsage.Bytes(store.CacheMounts) : 0;
        return new(entries.Count, mounts, imageBytes + mountBytes, imageBytes + mountBytes);
    }
}
