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
/// Safe for concurrent calls from the threads of one process (<see cref="SqliteDatabase"/>).
/// </summary>
public sealed class MetadataStore : IDisposable
{
    private const int SchemaVersion = 3;
    private readonly SqliteDatabase _database;

    private MetadataStore(SqliteDatabase database) => _database = database;

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/>.</summary>
    public static MetadataStore Open(string path) => new(SqliteDatabase.Open(path, Migrate));

    public void Dispose() => _database.Dispose();

    private static void Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        long version = (long)connection.Scalar("PRAGMA user_version", transaction)!;
        if (version > SchemaVersion)
            throw new MetadataException(ErrorKind.FailedPrecondition, $"metadata database schema {version} is newer than this skiff understands ({SchemaVersion}); use the newer skiff");
        if (version == 0)
        {
            transaction.Execute("""
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
                """);
        }
        if (version < 2)
        {
            // repo_digests keep the index blob of a multi-platform pull alive and answer "RepoDigests";
            // rootfs rows say which image a container's snapshot was made from, so that image is not removed under it.
            transaction.Execute("""
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
                """);
        }
        if (version < 3)
        {
            // The parent link decides what rmi and prune may delete (an image other images were made from stays);
            // SET NULL rather than a refusal, so a removal path that forgets the rule cannot wedge the store.
            // last_tagged is unix nanoseconds, docker's precision for LastTagTime.
            transaction.Execute("""
                ALTER TABLE images ADD COLUMN parent TEXT REFERENCES images(id) ON DELETE SET NULL;
                ALTER TABLE images ADD COLUMN last_tagged INTEGER;
                CREATE INDEX images_by_parent ON images(parent);
                PRAGMA user_version = 3;
                """);
        }
        transaction.Commit();
    }

    /// <summary>Records that a blob is in the content store (idempotent).</summary>
    public void PutBlob(string digest, long size, string? mediaType = null)
        => _database.Execute(InsertBlobSql, BlobParameters(new BlobRecord(digest, size, mediaType)));

    private const string InsertBlobSql = "INSERT INTO blobs(digest, size, media_type) VALUES ($digest, $size, $media) ON CONFLICT(digest) DO NOTHING";

    private static (string, object)[] BlobParameters(BlobRecord blob)
        => [("$digest", blob.Digest), ("$size", blob.Size), ("$media", (object?)blob.MediaType ?? DBNull.Value)];

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
        _database.InTransaction(transaction =>
        {
            foreach (var blob in blobs ?? [])
                transaction.Execute(InsertBlobSql, BlobParameters(blob));
            transaction.Execute("""
                INSERT INTO images(id, manifest_digest, config_digest, created, parent, last_tagged)
                VALUES ($id, $manifest, $config, $created, $parent, $tagged)
                ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest,
                    parent = coalesce(parent, excluded.parent), last_tagged = coalesce(excluded.last_tagged, last_tagged)
                """, ("$id", image.Id), ("$manifest", image.ManifestDigest), ("$config", image.ConfigDigest),
                ("$created", image.Created.ToUnixTimeMilliseconds()), ("$parent", (object?)image.Parent ?? DBNull.Value),
                ("$tagged", image.LastTagged is { } tagged ? UnixNanoseconds(tagged) : DBNull.Value));
            transaction.Execute("DELETE FROM image_layers WHERE image_id = $id", ("$id", image.Id));
            string? parent = null;
            foreach (var layer in layers.OrderBy(l => l.Position))
            {
                transaction.Execute("""
                    INSERT INTO snapshots(chain_id, parent, diff_id, size) VALUES ($chain, $parent, $diff, $size)
                    ON CONFLICT(chain_id) DO UPDATE SET size = coalesce(excluded.size, size)
                    """, ("$chain", layer.ChainId), ("$parent", (object?)parent ?? DBNull.Value), ("$diff", layer.DiffId),
                    ("$size", layer.Size > 0 ? layer.Size : DBNull.Value));
                transaction.Execute("INSERT INTO image_layers(image_id, position, blob_digest, diff_id, chain_id) VALUES ($id, $position, $blob, $diff, $chain)",
                    ("$id", image.Id), ("$position", layer.Position), ("$blob", layer.BlobDigest), ("$diff", layer.DiffId), ("$chain", layer.ChainId));
                parent = layer.ChainId;
            }
            foreach (string tag in tags)
                SetTag(transaction, tag, image.Id);
            foreach (var repoDigest in repoDigests ?? [])
            {
                transaction.Execute("INSERT INTO repo_digests(name, image_id, digest) VALUES ($name, $id, $digest) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, digest = excluded.digest",
                    ("$name", repoDigest.Name), ("$id", image.Id), ("$digest", repoDigest.Digest));
            }
            return true;
        });
    }

    /// <summary>
    /// Points the tag <paramref name="name"/> at an existing image (moving it from another one) and records
    /// <paramref name="taggedAt"/> as the image's last tag time; false when the image is not there.
    /// </summary>
    public bool Tag(string name, string imageId, DateTimeOffset taggedAt)
        => _database.InTransaction(transaction =>
        {
            if (transaction.Execute("UPDATE images SET last_tagged = $tagged WHERE id = $id", ("$id", imageId), ("$tagged", UnixNanoseconds(taggedAt))) == 0)
                return false;
            SetTag(transaction, name, imageId);
            return true;
        });

    private static void SetTag(SqliteTransaction transaction, string name, string imageId)
        => transaction.Execute("INSERT INTO tags(name, image_id) VALUES ($name, $id) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
            ("$name", name), ("$id", imageId));

    /// <summary>The image with this exact ID, or null.</summary>
    public ImageRecord? FindImage(string imageId)
        => _database.Query($"{SelectImages} WHERE id = $id", ReadImage, ("$id", imageId)).FirstOrDefault();

    /// <summary>Images whose ID (<c>sha256:hex</c>) starts with <paramref name="prefix"/>: what a short ID may mean.</summary>
    public IReadOnlyList<ImageRecord> FindImagesByIdPrefix(string prefix)
    {
        // Prefix match without LIKE, whose '_' and '%' would be wildcards: an ID range [prefix, prefix + U+FFFF).
        return _database.Query($"{SelectImages} WHERE id >= $low AND id < $high ORDER BY id", ReadImage, ("$low", prefix), ("$high", prefix + "\uffff"));
    }

    /// <summary>The image a <c>repository@digest</c> name or a manifest digest designates, or null.</summary>
    public ImageRecord? ResolveDigest(string repoDigestOrManifestDigest)
        => _database.Query($"""
            {SelectImages}
            WHERE manifest_digest = $value OR id IN (SELECT image_id FROM repo_digests WHERE name = $value)
            ORDER BY created DESC LIMIT 1
            """, ReadImage, ("$value", repoDigestOrManifestDigest)).FirstOrDefault();

    public IReadOnlyList<RepoDigestRecord> RepoDigestsOf(string imageId)
        => _database.Query("SELECT name, digest FROM repo_digests WHERE image_id = $id ORDER BY name",
            reader => new RepoDigestRecord(reader.GetString(0), reader.GetString(1)), ("$id", imageId));

    /// <summary>The images recorded as made from <paramref name="imageId"/> (docker's child images).</summary>
    public IReadOnlyList<string> ChildrenOf(string imageId)
        => Strings("SELECT id FROM images WHERE parent = $id ORDER BY id", ("$id", imageId));

    /// <summary>Records that container <paramref name="containerId"/>'s rootfs is made from <paramref name="imageId"/>.</summary>
    public void PutRootfs(string containerId, string imageId)
        => _database.Execute("INSERT INTO rootfs(container_id, image_id) VALUES ($container, $image)", ("$container", containerId), ("$image", imageId));

    public bool RemoveRootfs(string containerId) => _database.Execute("DELETE FROM rootfs WHERE container_id = $container", ("$container", containerId)) > 0;

    /// <summary>Containers whose rootfs was made from <paramref name="imageId"/>.</summary>
    public IReadOnlyList<string> ContainersUsing(string imageId)
        => Strings("SELECT container_id FROM rootfs WHERE image_id = $id ORDER BY container_id", ("$id", imageId));

    /// <summary>Every recorded blob.</summary>
    public IReadOnlyList<BlobRecord> ListBlobs()
        => _database.Query("SELECT digest, size, media_type FROM blobs ORDER BY digest",
            reader => new BlobRecord(reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2)));

    /// <summary>Every recorded snapshot with its size (0 when unknown).</summary>
    public IReadOnlyList<(string ChainId, long Size)> ListSnapshots()
        => _database.Query("SELECT chain_id, coalesce(size, 0) FROM snapshots ORDER BY chain_id", reader => (reader.GetString(0), reader.GetInt64(1)));

    /// <summary>
    /// Deletes, in one transaction, the rows of every blob and snapshot no image reaches any more: snapshots no image
    /// layer names, repeatedly (removing a top layer can free the one below it), then blobs no image, layer or repo
    /// digest names. Returns them so the caller can delete the files, after this commit: a crash in between leaves
    /// files without rows, which the next collection finds, never rows without files.
    /// </summary>
    public CollectedGarbage CollectGarbage()
        => _database.InTransaction(transaction =>
        {
            var snapshots = new List<string>();
            while (true)
            {
                var free = transaction.Query(UnreferencedSnapshotsSql, ReadString);
                if (free.Count == 0)
                    break;
                foreach (string chainId in free)
                    transaction.Execute("DELETE FROM snapshots WHERE chain_id = $chain", ("$chain", chainId));
                snapshots.AddRange(free);
            }
            var blobs = transaction.Query(UnreferencedBlobsSql, ReadString);
            foreach (string digest in blobs)
                transaction.Execute("DELETE FROM blobs WHERE digest = $digest", ("$digest", digest));
            return new CollectedGarbage(blobs, snapshots);
        });

    /// <summary>The image a tag names, or null.</summary>
    public ImageRecord? ResolveTag(string name)
        => _database.Query($"{SelectImages} WHERE id = (SELECT image_id FROM tags WHERE name = $name)", ReadImage, ("$name", name)).FirstOrDefault();

    public IReadOnlyList<ImageRecord> ListImages() => _database.Query($"{SelectImages} ORDER BY created DESC, id", ReadImage);

    public IReadOnlyList<string> TagsOf(string imageId)
        => Strings("SELECT name FROM tags WHERE image_id = $id ORDER BY name", ("$id", imageId));

    public IReadOnlyList<LayerRecord> LayersOf(string imageId)
        => _database.Query("""
            SELECT position, l.blob_digest, b.size, l.diff_id, l.chain_id, coalesce(s.size, 0) FROM image_layers l
            JOIN blobs b ON b.digest = l.blob_digest LEFT JOIN snapshots s ON s.chain_id = l.chain_id
            WHERE image_id = $id ORDER BY position
            """, reader => new LayerRecord(reader.GetInt32(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5)),
            ("$id", imageId));

    /// <summary>Removes a tag; true when it existed. The image stays (it may have other tags, or none, like a dangling image).</summary>
    public bool RemoveTag(string name) => _database.Execute("DELETE FROM tags WHERE name = $name", ("$name", name)) > 0;

    /// <summary>Removes an image with its tags and layer list; blobs and snapshots stay until garbage collection.</summary>
    public bool DeleteImage(string imageId) => _database.Execute("DELETE FROM images WHERE id = $id", ("$id", imageId)) > 0;

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

    private const string SelectImages = "SELECT id, manifest_digest, config_digest, created, parent, last_tagged FROM images";

    private static ImageRecord ReadImage(SqliteDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(5) / NanosecondsPerTick));

    private const long NanosecondsPerTick = 100;

    private static long UnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * NanosecondsPerTick;

    private List<string> Strings(string sql, params (string Name, object Value)[] parameters) => _database.Query(sql, ReadString, parameters);

    private static string ReadString(SqliteDataReader reader) => reader.GetString(0);
}
