using Skiff.Engine;
using Skiff.Storage;
using static Skiff.Interop.Interop;

namespace Skiff.Build.Execution;

/// <summary>What `builder prune` removed: cache entries, the images only they kept, cache mounts, and the bytes freed.</summary>
public sealed record BuildCachePruneReport(int Entries, IReadOnlyList<string> Images, int CacheMounts, long ReclaimedBytes);

/// <summary>
/// `skiff builder prune`: forgets the build cache's entries last used before a time (all by default) and removes what
/// only they kept: the images of their steps that have no name, no child image and no container (an image a tagged
/// image was built on stays, as a part of it), and the RUN cache mounts not used since that time.
/// </summary>
public static class BuildCachePrune
{
    public static BuildCachePruneReport Run(EngineHost host, BuildCache cache, DateTimeOffset? lastUsedBefore = null)
    {
        var removed = cache.Remove(entry => lastUsedBefore is not { } limit || entry.LastUsed < limit);
        var images = new List<string>();
        long bytes = 0;
        var stillCached = cache.List().Select(e => e.ImageId).ToHashSet(StringComparer.Ordinal);
        foreach (var imageId in removed.Select(e => e.ImageId).Distinct())
        {
            if (host.ImageStore.TryResolve(imageId) is not { RepoTags.Count: 0 } image || stillCached.Contains(image.Id))
                continue;
            try
            {
                var report = host.Images.Remove(image.Id);
                images.AddRange(report.Deleted);
                bytes += report.ReclaimedBytes;
            }
            catch (Exception error) when (ErrorKinds.Of(error) is ErrorKind.FailedPrecondition or ErrorKind.NotFound)
            {
                // a child image, a container, or removed meanwhile: it is not the cache's alone
            }
        }

        int mounts = 0;
        var cacheMounts = new BuildStore(host.Options).CacheMounts;
        if (Directory.Exists(cacheMounts))
        {
            foreach (var directory in Directory.GetDirectories(cacheMounts))
            {
                var data = Path.Combine(directory, "data");
                if (lastUsedBefore is { } limit && Directory.Exists(data) && Directory.GetLastWriteTimeUtc(data) >= limit.UtcDateTime)
                    continue;
                // A build's step holds it (shared or alone): in use, not the prune's.
                using var unused = Libc.TryLockFile(Path.Combine(directory, "lock"));
                if (unused is null)
                    continue;
                bytes += DirectoryUsage.Bytes(directory);
                Directory.Delete(directory, recursive: true);
                mounts++;
            }
        }
        return new BuildCachePruneReport(removed.Count, images, mounts, bytes);
    }
}
