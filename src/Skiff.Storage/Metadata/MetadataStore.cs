using Microsoft.Data.Sqlite;

namespace Skiff.Storage.Metadata;

/// <summary>An image as recorded in the metadata database: its ID is the digest of its config blob.</summary>
public sealed record ImageRecord(string Id, string ManifestDigest, string ConfigDigest, DateTimeOffset Created);

/// <summary>One layer of an image, bottom first: the compressed blob, its uncompressed diff ID and the chain ID of its snapshot.</summary>
public sealed record LayerRecord(int Position, string BlobDigest, long BlobSize, string DiffId, string ChainId);

/// <summary>
/// One SQLite database for all image metadata (blobs, images, tags, layers, snapshots), so that every change
/// that touches several of them is one transaction. containers/storage kept these in separate JSON files
/// with separate lock files and spent years on the deadlocks and "storage corrupted" reports that followed.
/// </summary>
public sealed class MetadataStore : IDisposable
{
    private const int SchemaVersion = 1;
    private readonly SqliteConnection _connection;

    private MetadataStore(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/>.</summary>
    public static MetadataStore Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        var store = new MetadataStore(connection);
        try
        {
            // WAL: readers (skiff images) do not block a writer (skiff pull) and a crash never leaves a torn
            // database. busy_timeout: a second skiff process waits for the lock instead of failing at once.
            store.Execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;");
            store.Migrate();
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

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
        transaction.Commit();
    }

    /// <summary>Records that a blob is in the content store (idempotent).</summary>
    public void PutBlob(string digest, long size, string? mediaType = null)
        => Execute("INSERT INTO blobs(digest, size, media_type) VALUES ($digest, $size, $media) ON CONFLICT(digest) DO NOTHING",
            null, ("$digest", digest), ("$size", size), ("$media", (object?)mediaType ?? DBNull.Value));

    /// <summary>
    /// Records an image, its layers and its tags in one transaction: afterwards the image is there with all of
    /// them, or (on any failure, e.g. a blob that was never recorded) nothing changed. A tag that named another
    /// image moves to this one, as `docker pull` of a newer :latest does.
    /// </summary>
    public void PutImage(ImageRecord image, IReadOnlyList<LayerRecord> layers, IEnumerable<string> tags)
    {
        using var transaction = _connection.BeginTransaction();
        Execute("""
            INSERT INTO images(id, manifest_digest, config_digest, created) VALUES ($id, $manifest, $config, $created)
            ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest
            """, transaction, ("$id", image.Id), ("$manifest", image.ManifestDigest), ("$config", image.ConfigDigest),
            ("$created", image.Created.ToUnixTimeMilliseconds()));
        Execute("DELETE FROM image_layers WHERE image_id = $id", transaction, ("$id", image.Id));
        string? parent = null;
        foreach (var layer in layers.OrderBy(l => l.Position))
        {
            Execute("INSERT INTO snapshots(chain_id, parent, diff_id) VALUES ($chain, $parent, $diff) ON CONFLICT(chain_id) DO NOTHING",
                transaction, ("$chain", layer.ChainId), ("$parent", (object?)parent ?? DBNull.Value), ("$diff", layer.DiffId));
            Execute("INSERT INTO image_layers(image_id, position, blob_digest, diff_id, chain_id) VALUES ($id, $position, $blob, $diff, $chain)",
                transaction, ("$id", image.Id), ("$position", layer.Position), ("$blob", layer.BlobDigest), ("$diff", layer.DiffId), ("$chain", layer.ChainId));
            parent = layer.ChainId;
        }
        foreach (string tag in tags)
        {
            Execute("INSERT INTO tags(name, image_id) VALUES ($name, $id) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
                transaction, ("$name", tag), ("$id", image.Id));
        }
        transaction.Commit();
    }

    /// <summary>The image a tag names, or null.</summary>
    public ImageRecord? ResolveTag(string name)
    {
        using var command = Command("""
            SELECT i.id, i.manifest_digest, i.config_digest, i.created FROM tags t JOIN images i ON i.id = t.image_id WHERE t.name = $name
            """, null, ("$name", name));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadImage(reader) : null;
    }

    public IReadOnlyList<ImageRecord> ListImages()
    {
        using var command = Command("SELECT id, manifest_digest, config_digest, created FROM images ORDER BY created DESC, id", null);
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
        using var command = Command("SELECT position, l.blob_digest, b.size, l.diff_id, l.chain_id FROM image_layers l JOIN blobs b ON b.digest = l.blob_digest WHERE image_id = $id ORDER BY position",
            null, ("$id", imageId));
        using var reader = command.ExecuteReader();
        var layers = new List<LayerRecord>();
        while (reader.Read())
            layers.Add(new LayerRecord(reader.GetInt32(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4)));
        return layers;
    }

    /// <summary>Removes a tag; true when it existed. The image stays (it may have other tags, or none, like a dangling image).</summary>
    public bool RemoveTag(string name) => Execute("DELETE FROM tags WHERE name = $name", null, ("$name", name)) > 0;

    /// <summary>Removes an image with its tags and layer list; blobs and snapshots stay until garbage collection.</summary>
    public bool DeleteImage(string imageId) => Execute("DELETE FROM images WHERE id = $id", null, ("$id", imageId)) > 0;

    /// <summary>Blobs no image refers to (as manifest, config or layer): what garbage collection may delete.</summary>
    public IReadOnlyList<string> UnreferencedBlobs() => Strings("""
        SELECT digest FROM blobs b
        WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.manifest_digest = b.digest OR i.config_digest = b.digest)
          AND NOT EXISTS (SELECT 1 FROM image_layers l WHERE l.blob_digest = b.digest)
        ORDER BY digest
        """);

    /// <summary>Snapshots no image layer refers to and no other snapshot builds on.</summary>
    public IReadOnlyList<string> UnreferencedSnapshots() => Strings("""
        SELECT chain_id FROM snapshots s
        WHERE NOT EXISTS (SELECT 1 FROM image_layers l WHERE l.chain_id = s.chain_id)
          AND NOT EXISTS (SELECT 1 FROM snapshots c WHERE c.parent = s.chain_id)
        ORDER BY chain_id
        """);

    private static ImageRecord ReadImage(SqliteDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)));

    private List<string> Strings(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, null, parameters);
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
            values.Add(reader.GetString(0));
        return values;
    }

    private int Execute(string sql, SqliteTransaction? transaction = null, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    private object? Scalar(string sql, SqliteTransaction? transaction)
    {
        using var command = Command(sql, transaction);
        return command.ExecuteScalar();
    }

    private SqliteCommand Command(string sql, SqliteTransaction? transaction, params (string Name, object Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return command;
    }
}
