using Skiff.Oci.Image;
using Skiff.Storage.Content;
using Skiff.Storage.Snapshots;

namespace Skiff.Storage.Tests;

/// <summary>The kinds front ends map to exit codes and statuses, as the stores' throw sites give them.</summary>
public sealed class ErrorKindTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void AMissingBlobIsNotFoundAndContentThatIsNotItsBlobIsAnInvalidArgument()
    {
        var store = new ContentStore(Path.Combine(_temp.Path, "content"));
        var absent = Digest.Compute("absent"u8);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<ContentException>(() => store.Open(absent)).Kind);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<ContentException>(() => store.Info(absent)).Kind);
        byte[] data = "data"u8.ToArray();
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<ContentException>(() => store.Ingest(absent, data.Length, new MemoryStream(data))).Kind);
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<ContentException>(() => store.Ingest(Digest.Compute(data), data.Length + 1, new MemoryStream(data))).Kind);
    }

    [Fact]
    public void ASecondWriterOfAnIngestInProgressConflicts()
    {
        var store = new ContentStore(Path.Combine(_temp.Path, "content"));
        byte[] data = "data"u8.ToArray();
        using var first = store.OpenIngest("pull one", Digest.Compute(data), data.Length);
        Assert.Equal(ErrorKind.Conflict, Assert.Throws<ContentException>(() => store.OpenIngest("pull one", Digest.Compute(data), data.Length)).Kind);
    }

    [Fact]
    public void SnapshotsThatAreMissingExistOrAreInUseSayWhich()
    {
        var snapshotter = new CopySnapshotter(Path.Combine(_temp.Path, "copy"));
        var layer = Digest.Compute("layer"u8);
        snapshotter.CommitLayer(layer, fs => File.WriteAllText(Path.Combine(fs, "file"), "content"));
        snapshotter.Prepare("container", [layer]);

        Assert.Equal(ErrorKind.AlreadyExists, Assert.Throws<SnapshotException>(() => snapshotter.Prepare("container", [layer])).Kind);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<SnapshotException>(() => snapshotter.GetMount("no-such-container")).Kind);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<SnapshotException>(() => snapshotter.Prepare("other", [Digest.Compute("never committed"u8)])).Kind);
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<SnapshotException>(() => snapshotter.RemoveLayer(layer)).Kind);
        Assert.True(snapshotter.Remove("container"));
    }

    [Fact]
    public void ADatabaseOfANewerSchemaIsAFailedPrecondition()
    {
        string path = Path.Combine(_temp.Path, "metadata.db");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }
        var error = Assert.Throws<Skiff.Storage.Metadata.MetadataException>(() => Skiff.Storage.Metadata.MetadataStore.Open(path));
        Assert.Equal(ErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains("schema 99", error.Message);
    }
}
