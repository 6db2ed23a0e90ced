using Microsoft.Data.Sqlite;
using Skiff.Storage.Sqlite;

namespace Skiff.Build.Execution;

/// <summary>One remembered step: the image a step with <see cref="Key"/> made, and when it was made and last reused.</summary>
public sealed record BuildCacheEntry(string Key, string ImageId, string Instruction, DateTimeOffset Created, DateTimeOffset LastUsed);

/// <summary>
/// What earlier builds made, by step key (the parent image, the instruction after substitution, the build args it
/// uses and the digests of what it reads: see docs/build.md), in the store's build.db. A hit names an image of the
/// store: the step's result, reused without running anything. A row is written only after its image is complete, so
/// a killed build leaves no entry that names half of one. Safe for concurrent calls, from threads and processes.
/// </summary>
public sealed class BuildCache : IDisposable
{
    private const int SchemaVersion = 1;
    private readonly SqliteDatabase _database;

    private BuildCache(SqliteDatabase database) => _database = database;

    /// <summary>Opens (creating, mode 0600) the cache database at <paramref name="path"/>.</summary>
    public static BuildCache Open(string path) => new(SqliteDatabase.Open(path, connection =>
    {
        connection.Execute("PRAGMA synchronous = NORMAL");
        using var transaction = connection.BeginTransaction();
        long version = (long)connection.Scalar("PRAGMA user_version", transaction)!;
        if (version > SchemaVersion)
            throw new BuildException(Skiff.ErrorKind.FailedPrecondition, $"The build cache {path} has schema {version}, newer than this skiff understands ({SchemaVersion}): use the newer skiff.");
        if (version == 0)
        {
            transaction.Execute("""
                CREATE TABLE steps (
                    key         TEXT PRIMARY KEY,
                    image_id    TEXT NOT NULL,
                    instruction TEXT NOT NULL,
                    created     INTEGER NOT NULL,
                    last_used   INTEGER NOT NULL
                );
                CREATE INDEX steps_image ON steps(image_id);
                PRAGMA user_version = 1;
                """);
        }
        transaction.Commit();
    }));

    public void Dispose() => _database.Dispose();

    /// <summary>
    /// The image a step with <paramref name="key"/> made, when <paramref name="exists"/> says it is still in the
    /// store (an entry whose image was removed is dropped), marking the entry used now.
    /// </summary>
    public string? Find(string key, Func<string, bool> exists)
    {
        var imageId = _database.Query("SELECT image_id FROM steps WHERE key = $k", r => r.GetString(0), ("$k", key)).FirstOrDefault();
        if (imageId is null)
            return null;
        if (!exists(imageId))
        {
            _database.Execute("DELETE FROM steps WHERE key = $k AND image_id = $i", ("$k", key), ("$i", imageId));
            return null;
        }
        _database.Execute("UPDATE steps SET last_used = $t WHERE key = $k", ("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), ("$k", key));
        return imageId;
    }

    /// <summary>Remembers that the step with <paramref name="key"/> made <paramref name="imageId"/> (a later step with the same key replaces it).</summary>
    public void Put(string key, string imageId, string instruction)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _database.Execute("INSERT OR REPLACE INTO steps(key, image_id, instruction, created, last_used) VALUES ($k, $i, $n, $t, $t)",
            ("$k", key), ("$i", imageId), ("$n", instruction), ("$t", now));
    }

    public IReadOnlyList<BuildCacheEntry> List()
        => _database.Query("SELECT key, image_id, instruction, created, last_used FROM steps ORDER BY created", Read);

    /// <summary>Forgets the entries <paramref name="selected"/> picks; returns them.</summary>
    public IReadOnlyList<BuildCacheEntry> Remove(Func<BuildCacheEntry, bool> selected)
    {
        var removed = List().Where(selected).ToList();
        foreach (var entry in removed)
            _database.Execute("DELETE FROM steps WHERE key = $k AND image_id = $i", ("$k", entry.Key), ("$i", entry.ImageId));
        return removed;
    }

    private static BuildCacheEntry Read(SqliteDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)));
}
