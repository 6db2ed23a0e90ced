using Microsoft.Data.Sqlite;
using Skiff.Storage.Sqlite;

namespace Skiff.Storage.Metadata;

/// <summary>
/// An image as recorded in the metadata database: its ID is the digest of its config blob. <see cref="Parent"/> is
/// the image it was made from here (a commit's or build step's base; null for pulled, loaded and imported images),
/// <see cref="LastTagged"/> when it was last given a name here (tag, commit or import with a name; null for names
/// that came with a pull or load): docker's Parent and Metadata.LastTagTime.
/// </summary>
public sealed record ImageRecord(string Id, string ManifestDigest, string ConfigDigest, DateTimeOffset Created,
    string? Parent = null, DateTimeOffset? LastTagged = null);

/// <summary>One layer of an image, bottom first: the compressed blob, its uncompressed diff ID, the chain ID of its
/// snapshot and the bytes of file data that snapshot holds (0 when unknown).</summary>
public sealed record LayerRecord(int Position, string BlobDigest, long BlobSize, string DiffId, string ChainId, long Size = 0);

/// <summary>A blob as recorded: digest, size, media type.</summary>
public sealed record BlobRecord(string Digest, long Size, string? MediaType = null);

/// <summary>A <c>repository@digest</c> name of an image (the manifest or index digest it was pulled by).</summary>
public sealed record RepoDigestRecord(string Name, string Digest);

/// <summary>What one garbage collection removed from the database; the caller deletes the files afterwards.</summary>
public sealed record CollectedGarbage(IReadOnlyList<string> Blobs, IReadOnlyList<string> Snapshots);

/// <summary>
/// One SQLite database for all image metadata (blobs, images, tags, layers, snapshots), so that every change
/// that touches several of them is one transaction. containers/storage kept these in separate JSON files
/// with separate lock files and spent years on the deadlocks and "storage corrupted" reports that followed.
/// </summary>
public sealed class MetadataStore : IDisposable
{
    private const int SchemaVersion = 3;
    private readonly SqliteConnection _connection;

    private MetadataStore(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/>.</summary>
    public static MetadataStore Open(string path)
        => new(SqliteCommands.OpenShared(path, connection => new MetadataStore(connection).Migrate()));

    public void Dispose() => _connection.Dispose();

    private void Migrate()
    {
        using var transaction = _connection.BeginTransaction();
        long version = (long)Scalar("PRAGMA user_version", transaction)!;
        if (version > SchemaVersion)
            throw new InvalidOperationException($"metadata database schema {version} is newer than this skiff understands ({SchemaVersion})");
        if (version == 0)
        {
            Execute("""
                CREATE TABLE blobs (
                    digest     TEXT PRIMARY KEY,
                    size       INTEGER NOT NULL,
                    media_type TEXT
                );
                CREATE TABLE images (
                    id              TEXT PRIMARY KEY,
                    manifest_digest TEXT NOT NULL REFERENCES blobs(digest),
                    config_digest   TEXT NOT NULL REFERENCES blobs(digest),
                    created         INTEGER NOT NULL
                );
                CREATE TABLE tags (
                    name     TEXT PRIMARY KEY,
                    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
                );
                CREATE INDEX tags_by_image ON tags(image_id);
                CREATE TABLE snapshots (
                    chain_id TEXT PRIMARY KEY,
                    parent   TEXT REFERENCES snapshots(chain_id),
                    diff_id  TEXT NOT NULL,
                    size     INTEGER
                );
                CREATE TABLE image_layers (
                    image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                    position    INTEGER NOT NULL,
                    blob_digest TEXT NOT NULL REFERENCES blobs(digest),
                    diff_id     TEXT NOT NULL,
                    chain_id    TEXT NOT NULL,
                    PRIMARY KEY (image_id, position)
                );
                CREATE INDEX layers_by_blob ON image_layers(blob_digest);
                PRAGMA user_version = 1;
                """, transaction);
        }
        if (version < 2)
        {
            // repo_digests keep the index blob of a multi-platform pull alive and answer "RepoDigests";
            // rootfs rows say which image a container's snapshot was made from, so that image is not removed under it.
            Execute("""
                CREATE TABLE repo_digests (
                    name     TEXT PRIMARY KEY,
                    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                    digest   TEXT NOT NULL REFERENCES blobs(digest)
                );
                CREATE INDEX repo_digests_by_image ON repo_digests(image_id);
                CREATE TABLE rootfs (
                    container_id TEXT PRIMARY KEY,
                    image_id     TEXT NOT NULL REFERENCES images(id)
                );
                PRAGMA user_version = 2;
                """, transaction);
        }
        if (version < 3)
        {
            // The parent link decides what rmi and prune may delete (an image other images were made from stays);
            // SET NULL rather than a refusal, so a removal path that forgets the rule cannot wedge the store.
            // last_tagged is unix nanoseconds, docker's precision for LastTagTime.
            Execute("""
                ALTER TABLE images ADD COLUMN parent TEXT REFERENCES images(id) ON DELETE SET NULL;
                ALTER TABLE images ADD COLUMN last_tagged INTEGER;
                CREATE INDEX images_by_parent ON images(parent);
                PRAGMA user_version = 3;
                """, transaction);
        }
        transaction.Commit();
    }

    /// <summary>Records that a blob is in the content store (idempotent).</summary>
    public void PutBlob(string digest, long size, string? mediaType = null) => InsertBlob(new BlobRecord(digest, size, mediaType), null);

    private void InsertBlob(BlobRecord blob, SqliteTransaction? transaction)
        => Execute("INSERT INTO blobs(digest, size, media_type) VALUES ($digest, $size, $media) ON CONFLICT(digest) DO NOTHING",
            transaction, ("$digest", blob.Digest), ("$size", blob.Size), ("$media", (object?)blob.MediaType ?? DBNull.Value));

    /// <summary>
    /// Records an image, its layers and its tags in one transaction: afterwards the image is there with all of
    /// them, or (on any failure, e.g. a blob that was never recorded) nothing changed. A tag that named another
    /// image moves to this one, as `docker pull` of a newer :latest does.
    /// </summary>
    /// <remarks><paramref name="blobs"/> are recorded first in the same transaction (so a pull records everything at
    /// once), and <paramref name="repoDigests"/> with the image. An image recorded again (the same content, so the
    /// same ID) keeps the parent it was first recorded with, as docker's content-addressed image store does, and
    /// keeps its last tag time unless <paramref name="image"/> brings a new one.</remarks>
    public void PutImage(ImageRecord image, IReadOnlyList<LayerRecord> layers, IEnumerable<string> tags,
        IEnumerable<BlobRecord>? blobs = null, IEnumerable<RepoDigestRecord>? repoDigests = null)
    {
        using var transaction = _connection.BeginTransaction();
        foreach (var blob in blobs ?? [])
            InsertBlob(blob, transaction);
        Execute("""
            INSERT INTO images(id, manifest_digest, config_digest, created, parent, last_tagged)
            VALUES ($id, $manifest, $config, $created, $parent, $tagged)
            ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest,
                parent = coalesce(parent, excluded.parent), last_tagged = coalesce(excluded.last_tagged, last_tagged)
            """, transaction, ("$id", image.Id), ("$manifest", image.ManifestDigest), ("$config", image.ConfigDigest),
            ("$created", image.Created.ToUnixTimeMilliseconds()), ("$parent", (object?)image.Parent ?? DBNull.Value),
            ("$tagged", image.LastTagged is { } tagged ? UnixNanoseconds(tagged) : DBNull.Value));
        Execute("DELETE FROM image_layers WHERE image_id = $id", transaction, ("$id", image.Id));
        string? parent = null;
        foreach (var layer in layers.OrderBy(l => l.Position))
        {
            Execute("""
                INSERT INTO snapshots(chain_id, parent, diff_id, size) VALUES ($chain, $parent, $diff, $size)
                ON CONFLICT(chain_id) DO UPDATE SET size = coalesce(excluded.size, size)
                """, transaction, ("$chain", layer.ChainId), ("$parent", (object?)parent ?? DBNull.Value), ("$diff", layer.DiffId),
                ("$size", layer.Size > 0 ? layer.Size : DBNull.Value));
            Execute("INSERT INTO image_layers(image_id, position, blob_digest, diff_id, chain_id) VALUES ($id, $position, $blob, $diff, $chain)",
                transaction, ("$id", image.Id), ("$position", layer.Position), ("$blob", layer.BlobDigest), ("$diff", layer.DiffId), ("$chain", layer.ChainId));
            parent = layer.ChainId;
        }
        foreach (string tag in tags)
            SetTag(tag, image.Id, transaction);
        foreach (var repoDigest in repoDigests ?? [])
        {
            Execute("INSERT INTO repo_digests(name, image_id, digest) VALUES ($name, $id, $digest) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, digest = excluded.digest",
                transaction, ("$name", repoDigest.Name), ("$id", image.Id), ("$digest", repoDigest.Digest));
        }
        transaction.Commit();
    }

    /// <summary>
    /// Points the tag <paramref name="name"/> at an existing image (moving it from another one) and records
    /// <paramref name="taggedAt"/> as the image's last tag time; false when the image is not there.
    /// </summary>
    public bool Tag(string name, string imageId, DateTimeOffset taggedAt)
    {
        using var transaction = _connection.BeginTransaction();
        if (Execute("UPDATE images SET last_tagged = $tagged WHERE id = $id", transaction, ("$id", imageId), ("$tagged", UnixNanoseconds(taggedAt))) == 0)
            return false;
        SetTag(name, imageId, transaction);
        transaction.Commit();
        return true;
    }

    private void SetTag(string name, string imageId, SqliteTransaction transaction)
        => Execute("INSERT INTO tags(name, image_id) VALUES ($name, $id) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
            transaction, ("$name", name), ("$id", imageId));

    /// <summary>The image with this exact ID, or null.</summary>
    public ImageRecord? FindImage(string imageId)
    {
        using var command = Command("SELECT id, manifest_digest, config_digest, created, parent, last_tagged FROM images WHERE id = $id", null, ("$id", imageId));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadImage(reader) : null;
    }

    /// <summary>Images whose ID (<c>sha256:hex</c>) starts with <paramref name="prefix"/>: what a short ID may mean.</summary>
    public IReadOnlyList<ImageRecord> FindImagesByIdPrefix(string prefix)
    {
        // Prefix match without LIKE, whose '_' and '%' would be wildcards: an ID range [prefix, prefix + U+FFFF).
        using var command = Command("SELECT id, manifest_digest, config_digest, created, parent, last_tagged FROM images WHERE id >= $low AND id < $high ORDER BY id",
            null, ("$low", prefix), ("$high", prefix + "\uffff"));
        using var reader = command.ExecuteReader();
        var images = new List<ImageRecord>();
        while (reader.Read())
            images.Add(ReadImage(reader));
        return images;
    }

    /// <summary>The image a <c>repository@digest</c> name or a manifest digest designates, or null.</summary>
    public ImageRecord? ResolveDigest(string repoDigestOrManifestDigest)
    {
        using var command = Command("""
            SELECT i.id, i.manifest_digest, i.config_digest, i.created, i.parent, i.last_tagged FROM images i
            WHERE i.manifest_digest = $value OR i.id IN (SELECT image_id FROM repo_digests WHERE name = $value)
            ORDER BY i.created DESC LIMIT 1
            """, null, ("$value", repoDigestOrManifestDigest));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadImage(reader) : null;
    }

    public IReadOnlyList<RepoDigestRecord> RepoDigestsOf(string imageId)
    {
        using var command = Command("SELECT name, digest FROM repo_digests WHERE image_id = $id ORDER BY name", null, ("$id", imageId));
        using var reader = command.ExecuteReader();
        var names = new List<RepoDigestRecord>();
        while (reader.Read())
            names.Add(new RepoDigestRecord(reader.GetString(0), reader.GetString(1)));
        return names;
    }

    /// <summary>The images recorded as made from <paramref name="imageId"/> (docker's child images).</summary>
    public IReadOnlyList<string> ChildrenOf(string imageId)
        => Strings("SELECT id FROM images WHERE parent = $id ORDER BY id", ("$id", imageId));

    /// <summary>Records that container <paramref name="containerId"/>'s rootfs is made from <paramref name="imageId"/>.</summary>
    public void PutRootfs(string containerId, string imageId)
        => Execute("INSERT INTO rootfs(container_id, image_id) VALUES ($container, $image)", null, ("$container", containerId), ("$image", imageId));

    public bool RemoveRootfs(string containerId) => Execute("DELETE FROM rootfs WHERE container_id = $container", null, ("$container", containerId)) > 0;

    /// <summary>Containers whose rootfs was made from <paramref name="imageId"/>.</summary>
    public IReadOnlyList<string> ContainersUsing(string imageId)
        => Strings("SELECT container_id FROM rootfs WHERE image_id = $id ORDER BY container_id", ("$id", imageId));

    /// <summary>Every recorded blob.</summary>
    public IReadOnlyList<BlobRecord> ListBlobs()
    {
        using var command = Command("SELECT digest, size, media_type FROM blobs ORDER BY digest", null);
        using var reader = command.ExecuteReader();
        var blobs = new List<BlobRecord>();
        while (reader.Read())
            blobs.Add(new BlobRecord(reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        return blobs;
    }

    /// <summary>Every recorded snapshot with its size (0 when unknown).</summary>
    public IReadOnlyList<(string ChainId, long Size)> ListSnapshots()
    {
        using var command = Command("SELECT chain_id, coalesce(size, 0) FROM snapshots ORDER BY chain_id", null);
        using var reader = command.ExecuteReader();
        var snapshots = new List<(string, long)>();
        while (reader.Read())
            snapshots.Add((reader.GetString(0), reader.GetInt64(1)));
        return snapshots;
    }

    /// <summary>
    /// Deletes, in one transaction, the rows of every blob and snapshot no image reaches any more: snapshots no image
    /// layer names, repeatedly (removing a top layer can free the one below it), then blobs no image, layer or repo
    /// digest names. Returns them so the caller can delete the files, after this commit: a crash in between leaves
    /// files without rows, which the next collection finds, never rows without files.
    /// </summary>
    public CollectedGarbage CollectGarbage()
    {
        using var transaction = _connection.BeginTransaction();
        var snapshots = new List<string>();
        while (true)
        {
            var free = Strings(UnreferencedSnapshotsSql, transaction);
            if (free.Count == 0)
                break;
            foreach (string chainId in free)
                Execute("DELETE FROM snapshots WHERE chain_id = $chain", transaction, ("$chain", chainId));
            snapshots.AddRange(free);
        }
        var blobs = Strings(UnreferencedBlobsSql, transaction);
        foreach (string digest in blobs)
            Execute("DELETE FROM blobs WHERE digest = $digest", transaction, ("$digest", digest));
        transaction.Commit();
        return new CollectedGarbage(blobs, snapshots);
    }

    /// <summary>The image a tag names, or null.</summary>
    public ImageRecord? ResolveTag(string name)
    {
        using var command = Command("""
            SELECT i.id, i.manifest_digest, i.config_digest, i.created, i.parent, i.last_tagged FROM tags t JOIN images i ON i.id = t.image_id WHERE t.name = $name
            """, null, ("$name", name));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadImage(reader) : null;
    }

    public IReadOnlyList<ImageRecord> ListImages()
    {
        using var command = Command("SELECT id, manifest_digest, config_digest, created, parent, last_tagged FROM images ORDER BY created DESC, id", null);
        using var reader = command.ExecuteReader();
        var images = new List<ImageRecord>();
        while (reader.Read())
            images.Add(ReadImage(reader));
        return images;
    }

    public IReadOnlyList<string> TagsOf(string imageId)
        => Strings("SELECT name FROM tags WHERE image_id = $id ORDER BY name", ("$id", imageId));

    public IReadOnlyList<LayerRecord> LayersOf(string imageId)
    {
        using var command = Command("""
            SELECT position, l.blob_digest, b.size, l.diff_id, l.chain_id, coalesce(s.size, 0) FROM image_layers l
            JOIN blobs b ON b.digest = l.blob_digest LEFT JOIN snapshots s ON s.chain_id = l.chain_id
            WHERE image_id = $id ORDER BY position
            """, null, ("$id", imageId));
        using var reader = command.ExecuteReader();
        var layers = new List<LayerRecord>();
        while (reader.Read())
            layers.Add(new LayerRecord(reader.GetInt32(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5)));
        return layers;
    }

    /// <summary>Removes a tag; true when it existed. The image stays (it may have other tags, or none, like a dangling image).</summary>
    public bool RemoveTag(string name) => Execute("DELETE FROM tags WHERE name = $name", null, ("$name", name)) > 0;

    /// <summary>Removes an image with its tags and layer list; blobs and snapshots stay until garbage collection.</summary>
    public bool DeleteImage(string imageId) => Execute("DELETE FROM images WHERE id = $id", null, ("$id", imageId)) > 0;

    /// <summary>Blobs no image refers to (as manifest, config, layer or repo digest): what garbage collection may delete.</summary>
    public IReadOnlyList<string> UnreferencedBlobs() => Strings(UnreferencedBlobsSql);

    /// <summary>Snapshots no image layer refers to and no other snapshot builds on.</summary>
    public IReadOnlyList<string> UnreferencedSnapshots() => Strings(UnreferencedSnapshotsSql);

    private const string UnreferencedBlobsSql = """
        SELECT digest FROM blobs b
        WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.manifest_digest = b.digest OR i.config_digest = b.digest)
          AND NOT EXISTS (SELECT 1 FROM image_layers l WHERE l.blob_digest = b.digest)
          AND NOT EXISTS (SELECT 1 FROM repo_digests r WHERE r.digest = b.digest)
        ORDER BY digest
        """;

    private const string UnreferencedSnapshotsSql = """
        SELECT chain_id FROM snapshots s
        WHERE NOT EXISTS (SELECT 1 FROM image_layers l WHERE l.chain_id = s.chain_id)
          AND NOT EXISTS (SELECT 1 FROM snapshots c WHERE c.parent = s.chain_id)
        ORDER BY chain_id
        """;

    private static ImageRecord ReadImage(SqliteDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(5) / NanosecondsPerTick));

    private const long NanosecondsPerTick = 100;

    private static long UnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * NanosecondsPerTick;

    private List<string> Strings(string sql, params (string Name, object Value)[] parameters) => Strings(sql, null, parameters);

    private List<string> Strings(string sql, SqliteTransaction? transaction, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, transaction, parameters);
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
            values.Add(reader.GetString(0));
        return values;
    }

    private int Execute(string sql, SqliteTransaction? transaction = null, params (string Name, object Value)[] parameters)
        => _connection.Execute(sql, transaction, parameters);

    private object? Scalar(string sql, SqliteTransaction? transaction, params (string Name, object Value)[] parameters)
        => _connection.Scalar(sql, transaction, parameters);

    private SqliteCommand Command(string sql, SqliteTransaction? transaction, params (string Name, object Value)[] parameters)
        => _connection.Command(sql, transaction, parameters);
}
