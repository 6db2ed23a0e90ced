using Skiff.Build.Context;
using Skiff.Build.Execution;
using Skiff.Engine;
using Skiff.Interop;

namespace Skiff.Build;

/// <summary>
/// The builder's part of a store, ROOT/build (0700): the step cache (cache.db), the context stat cache, RUN cache
/// mounts, ADD downloads and extracted tar contexts. Each front end opens it the same way.
/// </summary>
public sealed class BuildStore(EngineOptions options)
{
    public string Root { get; } = Path.Combine(options.Root, "build");

    public string CacheMounts => Path.Combine(Root, "cache-mounts");
    public string Downloads => Path.Combine(Root, "downloads");
    public string Contexts => Path.Combine(Root, "contexts");

    /// <summary>Whether any build ran on this store (commands that only read, such as system df, create nothing).</summary>
    public bool Exists => Directory.Exists(Root);

    public BuildCache OpenCache()
    {
        PrivateStore.EnsureDirectory(Root);
        return BuildCache.Open(Path.Combine(Root, "cache.db"));
    }

    public StatCache OpenStatCache()
    {
        PrivateStore.EnsureDirectory(Root);
        return StatCache.Open(Path.Combine(Root, "stat-cache"));
    }
}
