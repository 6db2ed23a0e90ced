using Microsoft.Data.Sqlite;
using Skiff.Storage.Metadata;

namespace Skiff.Storage.Tests;

public sealed class MetadataStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly MetadataStore _store;

    public MetadataStoreTests() => _store = MetadataStore.Open(Path.Combine(_temp.Path, "metadata.db"));

    public void Dispose()
    {
        _store.Dispose();
        _temp.Dispose();
    }

    private static readonly DateTimeOffset Created = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private ImageRecord AddImage(string id, string[] layerBlobs, params string[] tags)
    {
        var image = new ImageRecord(id, $"manifest-{id}", $"config-{id}", Created);
        _store.PutBlob(image.ManifestDigest, 100, "application/vnd.oci.image.manifest.v1+json");
        _store.PutBlob(image.ConfigDigest, 50);
        var layers = layerBlobs.Select((blob, i) =>
        {
            _store.PutBlob(blob, 1000 + i);
            return new LayerRecord(i, blob, 1000 + i, $"diff-{blob}", $"chain-{string.Join("-", layerBlobs[..(i + 1)])}");
        }).ToList();
        _store.PutImage(image, layers, tags);
        return image;
    }

    [Fact]
    public void ManyThreadsOfOneProcessRecordReadAndCollectAtOnce()
    {
        // Concurrent pulls, image listings and removals in one process (an API service) share one store.
        const int Images = 240;
        Parallel.For(0, Images, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            // Blobs recorded with their image, as a pull does: a collection running between the two would free them.
            var image = new ImageRecord($"img{i}", $"manifest-img{i}", $"config-img{i}", Created);
            string[] blobs = ["shared", $"own{i}"];
            _store.PutImage(image, [.. blobs.Select((blob, position) => new LayerRecord(position, blob, 1000, $"diff-{blob}", $"chain-{string.Join("-", blobs[..(position + 1)])}"))],
                [$"repo/image:{i}"], [new(image.ManifestDigest, 100), new(image.ConfigDigest, 50), .. blobs.Select(blob => new BlobRecord(blob, 1000))]);
            Assert.Contains(_store.ListImages(), image => image.Id == $"img{i}");
            Assert.Equal(2, _store.LayersOf($"img{i}").Count);
            if (i % 3 == 0)
            {
                Assert.True(_store.DeleteImage($"img{i}"));
                _store.CollectGarbage();
            }
        });
        Assert.Equal(Images - Images / 3, _store.ListImages().Count);
        for (int i = 0; i < Images; i++)
            Assert.Equal(i % 3 == 0 ? null : $"img{i}", _store.ResolveTag($"repo/image:{i}")?.Id);
        Assert.Contains(_store.ListBlobs(), blob => blob.Digest == "shared");
        Assert.DoesNotContain(_store.ListBlobs(), blob => blob.Digest == "own0");
    }

    [Fact]
    public void PutImageThenResolveTagAndLayers()
    {
        var image = AddImage("img1", ["l1", "l2"], "docker.io/library/busybox:latest", "docker.io/library/busybox:1.36");

        Assert.Equal(image, _store.ResolveTag("docker.io/library/busybox:latest"));
        Assert.Null(_store.ResolveTag("docker.io/library/alpine:latest"));
        Assert.Equal(["docker.io/library/busybox:1.36", "docker.io/library/busybox:latest"], _store.TagsOf("img1"));
        Assert.Equal(
            [new LayerRecord(0, "l1", 1000, "diff-l1", "chain-l1"), new LayerRecord(1, "l2", 1001, "diff-l2", "chain-l1-l2")],
            _store.LayersOf("img1"));
        Assert.Equal([image], _store.ListImages());
    }

    [Fact]
    public void TagMovesToTheNewerImage()
    {
        AddImage("old", ["l1"], "repo:latest", "repo:1");
        AddImage("new", ["l1", "l2"], "repo:latest");
        Assert.Equal("new", _store.ResolveTag("repo:latest")!.Id);
        Assert.Equal(["repo:1"], _store.TagsOf("old"));
    }

    [Fact]
    public void FailedPutImageChangesNothing()
    {
        _store.PutBlob("manifest", 1);
        _store.PutBlob("config", 1);
        var image = new ImageRecord("broken", "manifest", "config", Created);
        // "missing" was never recorded as a blob: the foreign key fails half-way, after the image row was written.
        Assert.Throws<SqliteException>(() => _store.PutImage(image, [new LayerRecord(0, "missing", 1, "d", "c")], ["repo:tag"]));

        Assert.Empty(_store.ListImages());
        Assert.Null(_store.ResolveTag("repo:tag"));
        Assert.Equal(["config", "manifest"], _store.UnreferencedBlobs());
        Assert.Empty(_store.UnreferencedSnapshots());
    }

    [Fact]
    public void DeletingAnImageFreesWhatOnlyItReferenced()
    {
        AddImage("a", ["shared", "only-a"], "a:latest");
        AddImage("b", ["shared"], "b:latest");
        Assert.Empty(_store.UnreferencedBlobs());

        Assert.True(_store.DeleteImage("a"));
        Assert.False(_store.DeleteImage("a"));

        Assert.Null(_store.ResolveTag("a:latest"));
        Assert.Equal(["config-a", "manifest-a", "only-a"], _store.UnreferencedBlobs());
        Assert.Equal(["chain-shared-only-a"], _store.UnreferencedSnapshots());
        Assert.Equal("b", _store.ResolveTag("b:latest")!.Id);
    }

    [Fact]
    public void GarbageCollectionFreesChainsTopDownAndKeepsWhatRemainingImagesReach()
    {
        _store.PutBlob("index", 10);
        AddImage("a", ["base", "a1", "a2"], "a:latest");
        AddImage("b", ["base"], "b:latest");
        _store.PutImage(_store.FindImage("a")!, _store.LayersOf("a"), [], repoDigests: [new RepoDigestRecord("repo@index", "index")]);
        var nothing = _store.CollectGarbage();
        Assert.Empty(nothing.Blobs);
        Assert.Empty(nothing.Snapshots);

        Assert.True(_store.DeleteImage("a"));
        var collected = _store.CollectGarbage();

        Assert.Equal(["a1", "a2", "config-a", "index", "manifest-a"], collected.Blobs.Order());
        Assert.Equal(["chain-base-a1", "chain-base-a1-a2"], collected.Snapshots.Order());
        Assert.Equal(["base", "config-b", "manifest-b"], _store.ListBlobs().Select(b => b.Digest));
        Assert.Equal(["chain-base"], _store.ListSnapshots().Select(s => s.ChainId));
    }

    [Fact]
    public void ImagesAreFoundByIdPrefixAndRepoDigest()
    {
        AddImage("sha256:abc1", ["l"]);
        AddImage("sha256:abc2", ["l"]);
        _store.PutBlob("idx", 1);
        _store.PutImage(_store.FindImage("sha256:abc2")!, _store.LayersOf("sha256:abc2"), ["x:1"], repoDigests: [new RepoDigestRecord("x@idx", "idx")]);

        Assert.Equal(["sha256:abc1", "sha256:abc2"], _store.FindImagesByIdPrefix("sha256:abc").Select(i => i.Id));
        Assert.Equal(["sha256:abc2"], _store.FindImagesByIdPrefix("sha256:abc2").Select(i => i.Id));
        Assert.Empty(_store.FindImagesByIdPrefix("sha256:abd"));
        Assert.Equal("sha256:abc2", _store.ResolveDigest("x@idx")!.Id);
        Assert.Equal("sha256:abc1", _store.ResolveDigest("manifest-sha256:abc1")!.Id);
        Assert.True(_store.Tag("y:2", "sha256:abc1", Created));
        Assert.False(_store.Tag("y:3", "sha256:none", Created));
        Assert.Equal("sha256:abc1", _store.ResolveTag("y:2")!.Id);
    }

    [Fact]
    public void RemovingTheLastTagLeavesADanglingImage()
    {
        AddImage("a", ["l"], "a:latest");
        Assert.True(_store.RemoveTag("a:latest"));
        Assert.False(_store.RemoveTag("a:latest"));
        Assert.Single(_store.ListImages());
        Assert.Empty(_store.TagsOf("a"));
    }

    [Fact]
    public void ReopeningKeepsDataAndSchema()
    {
        string path = Path.Combine(_temp.Path, "second.db");
        using (var first = MetadataStore.Open(path))
        {
            first.PutBlob("m", 1);
            first.PutBlob("c", 1);
            first.PutImage(new ImageRecord("x", "m", "c", Created), [], ["x:1"]);
        }
        using var second = MetadataStore.Open(path);
        Assert.Equal("x", second.ResolveTag("x:1")!.Id);
    }

    [Fact]
    public void TwoConnectionsSeeEachOthersCommits()
    {
        string path = Path.Combine(_temp.Path, "shared.db");
        using var writer = MetadataStore.Open(path);
        using var reader = MetadataStore.Open(path);
        writer.PutBlob("m", 1);
        writer.PutBlob("c", 1);
        writer.PutImage(new ImageRecord("x", "m", "c", Created), [], ["x:1"]);
        Assert.Equal("x", reader.ResolveTag("x:1")!.Id);
    }

    [Fact]
    public void ParentIsKeptFromTheFirstRecordingAndTagTimeFromTheLatestNaming()
    {
        AddImage("base", ["l1"], "base:1");
        var tagged = new DateTimeOffset(2026, 12, 6, 13, 1, 2, TimeSpan.Zero).AddTicks(1234567);
        _store.PutImage(new ImageRecord("child", "manifest-base", "config-base", Created, "base", tagged), _store.LayersOf("base"), ["child:1"]);
        Assert.Equal(("base", tagged), (_store.FindImage("child")!.Parent, _store.FindImage("child")!.LastTagged));
        Assert.Equal(["child"], _store.ChildrenOf("base"));
        Assert.Null(_store.FindImage("base")!.LastTagged);

        // The same content recorded again, from another parent and without a naming: the first parent stays, and the tag time.
        AddImage("other", ["l9"]);
        _store.PutImage(new ImageRecord("child", "manifest-base", "config-base", Created, "other"), _store.LayersOf("base"), []);
        Assert.Equal(("base", tagged), (_store.FindImage("child")!.Parent, _store.FindImage("child")!.LastTagged));

        var later = tagged.AddDays(1);
        Assert.True(_store.Tag("base:2", "base", later));
        Assert.Equal(later, _store.ResolveTag("base:1")!.LastTagged);

        // A parent that goes anyway leaves its child without a parent rather than blocking the removal.
        Assert.True(_store.DeleteImage("base"));
        Assert.Null(_store.FindImage("child")!.Parent);
    }

    [Fact]
    public void SchemaVersionTwoIsMigratedAndItsImagesHaveNoParentOrTagTime()
    {
        string path = Path.Combine(_temp.Path, "v2.db");
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // The schema as skiff created it at version 2, with one tagged image.
            command.CommandText = """
                CREATE TABLE blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, media_type TEXT);
                CREATE TABLE images (
                    id TEXT PRIMARY KEY, manifest_digest TEXT NOT NULL REFERENCES blobs(digest),
                    config_digest TEXT NOT NULL REFERENCES blobs(digest), created INTEGER NOT NULL);
                CREATE TABLE tags (name TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);
                CREATE INDEX tags_by_image ON tags(image_id);
                CREATE TABLE snapshots (chain_id TEXT PRIMARY KEY, parent TEXT REFERENCES snapshots(chain_id), diff_id TEXT NOT NULL, size INTEGER);
                CREATE TABLE image_layers (
                    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, position INTEGER NOT NULL,
                    blob_digest TEXT NOT NULL REFERENCES blobs(digest), diff_id TEXT NOT NULL, chain_id TEXT NOT NULL,
                    PRIMARY KEY (image_id, position));
                CREATE INDEX layers_by_blob ON image_layers(blob_digest);
                CREATE TABLE repo_digests (
                    name TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                    digest TEXT NOT NULL REFERENCES blobs(digest));
                CREATE INDEX repo_digests_by_image ON repo_digests(image_id);
                CREATE TABLE rootfs (container_id TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id));
                INSERT INTO blobs VALUES ('m', 1, NULL), ('c', 1, NULL);
                INSERT INTO images VALUES ('old', 'm', 'c', 1714979289000);
                INSERT INTO tags VALUES ('old:1', 'old');
                PRAGMA user_version = 2;
                """;
            command.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        using (var store = MetadataStore.Open(path))
        {
            Assert.Equal(new ImageRecord("old", "m", "c", Created), store.ResolveTag("old:1"));
            store.PutImage(new ImageRecord("new", "m", "c", Created, "old", Created), [], ["new:1"]);
            Assert.Equal(["new"], store.ChildrenOf("old"));
        }
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version";
            Assert.Equal(3L, command.ExecuteScalar());
            command.CommandText = "SELECT group_concat(name) FROM pragma_table_info('images')";
            Assert.Equal("id,manifest_digest,config_digest,created,parent,last_tagged", command.ExecuteScalar());
        }
    }

    [Fact]
    public void NewDatabasesStartAtTheCurrentSchema()
    {
        string path = Path.Combine(_temp.Path, "fresh.db");
        MetadataStore.Open(path).Dispose();
        SqliteConnection.ClearAllPools();
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT user_version FROM pragma_user_version) || ':' || (SELECT count(*) FROM pragma_table_info('images') WHERE name IN ('parent', 'last_tagged'))";
        Assert.Equal("3:2", command.ExecuteScalar());
    }
}
