using System.Text;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Storage.Tests;

public sealed class ContentStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly ContentStore _store;

    public ContentStoreTests() => _store = new ContentStore(_temp.Path);

    public void Dispose() => _temp.Dispose();

    private static byte[] Data(int size, int seed = 1)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private string[] IngestLeftovers() => Directory.GetFileSystemEntries(Path.Combine(_temp.Path, "ingest"));

    [Fact]
    public void IngestStoresBlobUnderItsDigest()
    {
        var data = Data(3 * 1024 * 1024 + 17);
        var digest = Digest.Compute(data);

        var info = _store.Ingest(digest, data.Length, new MemoryStream(data));

        Assert.Equal(new BlobInfo(digest, data.Length), info);
        Assert.True(_store.Exists(digest));
        Assert.Equal(Path.Combine(_temp.Path, "blobs", "sha256", digest.Encoded), _store.BlobPath(digest));
        using (var stream = _store.Open(digest))
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            Assert.Equal(data, copy.ToArray());
        }
        Assert.Equal(data.Length, _store.Info(digest).Size);
        Assert.Empty(IngestLeftovers());
    }

    [Fact]
    public void AddStoresContentUnderTheDigestComputedFromIt()
    {
        var data = Data(2 * 1024 * 1024 + 5);

        var info = _store.Add(new MemoryStream(data), out bool added);
        var again = _store.Add(new MemoryStream(data), out bool addedAgain);
        var sha512 = _store.Add(new MemoryStream(data), out _, Digest.Sha512);

        Assert.Equal(new BlobInfo(Digest.Compute(data), data.Length), info);
        Assert.True(added);
        Assert.Equal(info, again);
        Assert.False(addedAgain);
        Assert.Equal(Digest.Compute(data, Digest.Sha512), sha512.Digest);
        Assert.Equal(data, File.ReadAllBytes(_store.BlobPath(info.Digest)));
        Assert.Empty(IngestLeftovers());
    }

    [Fact]
    public void AddThatFailsWhileReadingLeavesNothing()
    {
        Assert.Throws<InvalidOperationException>(() => _store.Add(new ThrowingStream(), out _));
        Assert.Empty(IngestLeftovers());
        Assert.Empty(_store.List());
    }

    [Fact]
    public void Sha512BlobsLiveUnderTheirAlgorithm()
    {
        var data = Encoding.UTF8.GetBytes("sha512 content");
        var digest = Digest.Compute(data, Digest.Sha512);
        _store.Ingest(digest, data.Length, new MemoryStream(data));
        Assert.True(File.Exists(Path.Combine(_temp.Path, "blobs", "sha512", digest.Encoded)));
        Assert.Contains(new BlobInfo(digest, data.Length), _store.List());
    }

    [Fact]
    public async Task IngestAsyncVerifiesLikeIngest()
    {
        var data = Data(100_000);
        var digest = Digest.Compute(data);
        var info = await _store.IngestAsync(digest, data.Length, new MemoryStream(data));
        Assert.Equal(data.Length, info.Size);
        await Assert.ThrowsAsync<ContentException>(() => _store.IngestAsync(Digest.Compute(Data(10, 9)), 10, new MemoryStream(Data(10, 8))));
        Assert.Empty(IngestLeftovers());
    }

    [Fact]
    public void CorruptContentIsRejectedAndLeavesNothing()
    {
        var data = Data(4096);
        var digest = Digest.Compute(data);
        var corrupt = (byte[])data.Clone();
        corrupt[100] ^= 0xff;

        var error = Assert.Throws<ContentException>(() => _store.Ingest(digest, data.Length, new MemoryStream(corrupt)));

        Assert.Equal($"blob {digest}: content has digest {Digest.Compute(corrupt)}", error.Message);
        Assert.False(_store.Exists(digest));
        Assert.False(_store.Exists(Digest.Compute(corrupt)));
        Assert.Empty(IngestLeftovers());
    }

    [Fact]
    public void TruncatedContentIsRejectedAndLeavesNothing()
    {
        var data = Data(4096);
        var digest = Digest.Compute(data);

        var error = Assert.Throws<ContentException>(() => _store.Ingest(digest, data.Length, new MemoryStream(data, 0, 4000)));

        Assert.Equal($"blob {digest}: expected 4096 bytes, got 4000", error.Message);
        Assert.False(_store.Exists(digest));
        Assert.Empty(IngestLeftovers());
    }

    [Fact]
    public void OverlongContentIsRejectedBeforeItIsWritten()
    {
        var data = Data(4096);
        var digest = Digest.Compute(data);
        var longer = data.Concat(new byte[] { 1, 2, 3 }).ToArray();

        var error = Assert.Throws<ContentException>(() => _store.Ingest(digest, data.Length, new MemoryStream(longer)));

        Assert.StartsWith($"blob {digest}: expected 4096 bytes, got more", error.Message);
        Assert.False(_store.Exists(digest));
        Assert.Empty(IngestLeftovers());
    }

    [Fact]
    public void SecondIngestOfPresentBlobDoesNotReadItsStream()
    {
        var data = Data(10);
        var digest = Digest.Compute(data);
        _store.Ingest(digest, data.Length, new MemoryStream(data));
        var info = _store.Ingest(digest, data.Length, new ThrowingStream());
        Assert.Equal(10, info.Size);
    }

    [Fact]
    public void TwoThreadsIngestingTheSameBlobBothSucceed()
    {
        var data = Data(8 * 1024 * 1024, seed: 5);
        var digest = Digest.Compute(data);
        using var start = new Barrier(2);

        var results = new BlobInfo[2];
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            // Small reads so both writers are in the middle of their temporary files at the same time.
            results[i] = _store.Ingest(digest, data.Length, new SlowStream(data, chunk: 64 * 1024));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.All(results, r => Assert.Equal(new BlobInfo(digest, data.Length), r));
        Assert.Equal(digest, Digest.Compute(File.ReadAllBytes(_store.BlobPath(digest))));
        Assert.Single(_store.List());
        Assert.Empty(IngestLeftovers());
    }

    [Fact]
    public void ManyConcurrentIngestsOfDifferentAndEqualBlobs()
    {
        var blobs = Enumerable.Range(0, 4).Select(i => Data(200_000, i)).ToArray();
        Parallel.For(0, 16, i =>
        {
            var data = blobs[i % blobs.Length];
            _store.Ingest(Digest.Compute(data), data.Length, new MemoryStream(data));
        });
        Assert.Equal(blobs.Select(b => Digest.Compute(b)).OrderBy(d => d.Encoded), _store.List().Select(b => b.Digest).OrderBy(d => d.Encoded));
        Assert.Empty(IngestLeftovers());
    }

    [Fact]
    public void ConcurrentResumableIngestsOfOneBlobAllEndWithTheBlob()
    {
        // Writers racing on one ingest name, as concurrent pulls of the same layer do: every loser must see either
        // "another writer has it" (and retry) or a committed blob, never a raw IOException from a vanished directory.
        var data = Data(64 * 1024);
        var digest = Digest.Compute(data);
        for (int round = 0; round < 100; round++)
        {
            Parallel.For(0, 8, _ =>
            {
                while (!_store.Exists(digest))
                {
                    ContentWriter writer;
                    try
                    {
                        writer = _store.OpenIngest("pull " + digest, digest, data.Length);
                    }
                    catch (ContentException)
                    {
                        Thread.Yield();
                        continue;
                    }
                    using (writer)
                    {
                        writer.Write(data.AsSpan((int)writer.Offset));
                        Assert.Equal(new BlobInfo(digest, data.Length), writer.Commit());
                    }
                }
            });
            Assert.Equal(data, File.ReadAllBytes(_store.BlobPath(digest)));
            Assert.Empty(IngestLeftovers());
            _store.Delete(digest);
        }
    }

    [Fact]
    public void ABlobCanBeReadWhileTheWriterThatCommittedItStillHoldsItsLock()
    {
        var data = Data(10_000);
        var digest = Digest.Compute(data);
        _store.Ingest(digest, data.Length, new MemoryStream(data));
        // A committing writer's exclusive flock moves with its file to the blob path and lasts until it closes the
        // file, just after the rename: a reader in that window (another pull) must not be refused.
        using var committingWriter = new FileStream(_store.BlobPath(digest), FileMode.Open, FileAccess.ReadWrite, FileShare.None);

        using var reader = _store.Open(digest);
        var read = new MemoryStream();
        reader.CopyTo(read);
        Assert.Equal(data, read.ToArray());
        Assert.Throws<ContentException>(() => _store.Open(Digest.Compute("absent"u8)));
    }

    [Fact]
    public void InterruptedIngestResumesAtItsOffset()
    {
        var data = Data(1_000_000);
        var digest = Digest.Compute(data);
        const string reference = "docker.io/library/busybox@layer";

        using (var first = _store.OpenIngest(reference, digest, data.Length))
        {
            Assert.Equal(0, first.Offset);
            first.Write(data.AsSpan(0, 300_000));
            // dropped connection: the writer goes away without a commit
        }
        Assert.False(_store.Exists(digest));
        Assert.Equal([(reference, 300_000L)], _store.ListIngests());

        using (var second = _store.OpenIngest(reference, digest, data.Length))
        {
            Assert.Equal(300_000, second.Offset);
            second.Write(data.AsSpan((int)second.Offset));
            second.Commit();
        }
        Assert.True(_store.Exists(digest));
        Assert.Equal(data, File.ReadAllBytes(_store.BlobPath(digest)));
        Assert.Empty(_store.ListIngests());
        Assert.Empty(IngestLeftovers());
    }

    [Fact]
    public void ResumedIngestWithCorruptPrefixFailsAndIsDropped()
    {
        var data = Data(50_000);
        var digest = Digest.Compute(data);
        using (var first = _store.OpenIngest("ref", digest, data.Length))
            first.Write(Data(20_000, seed: 99));

        using var second = _store.OpenIngest("ref", digest, data.Length);
        second.Write(data.AsSpan(20_000));
        var error = Assert.Throws<ContentException>(() => second.Commit());
        Assert.StartsWith($"blob {digest}: content has digest sha256:", error.Message);
        Assert.Empty(_store.ListIngests());
        Assert.False(_store.Exists(digest));
    }

    [Fact]
    public void SecondWriterOfTheSameIngestIsRefused()
    {
        var data = Data(100);
        var digest = Digest.Compute(data);
        using var first = _store.OpenIngest("same", digest, data.Length);
        first.Write(data.AsSpan(0, 10));

        var error = Assert.Throws<ContentException>(() => _store.OpenIngest("same", digest, data.Length));
        Assert.Equal("ingest same: already being written by another writer", error.Message);

        first.Write(data.AsSpan(10));
        first.Commit();
        Assert.True(_store.Exists(digest));
    }

    [Fact]
    public void AbortIngestDropsPartialData()
    {
        var data = Data(100);
        var digest = Digest.Compute(data);
        using (var writer = _store.OpenIngest("gone", digest, data.Length))
            writer.Write(data.AsSpan(0, 50));
        Assert.True(_store.AbortIngest("gone"));
        Assert.False(_store.AbortIngest("gone"));
        using var fresh = _store.OpenIngest("gone", digest, data.Length);
        Assert.Equal(0, fresh.Offset);
    }

    [Fact]
    public void DeleteListAndMissingBlobErrors()
    {
        var a = Data(10, 1);
        var b = Data(20, 2);
        _store.Ingest(Digest.Compute(a), a.Length, new MemoryStream(a));
        _store.Ingest(Digest.Compute(b), b.Length, new MemoryStream(b));
        File.WriteAllText(Path.Combine(_temp.Path, "blobs", "sha256", "not-a-digest"), "x");
        Assert.Equal(2, _store.List().Count());

        Assert.True(_store.Delete(Digest.Compute(a)));
        Assert.False(_store.Delete(Digest.Compute(a)));
        var missing = Digest.Compute(a);
        Assert.Equal($"blob {missing}: not found in the content store", Assert.Throws<ContentException>(() => _store.Open(missing)).Message);
        Assert.Equal($"blob {missing}: not found in the content store", Assert.Throws<ContentException>(() => _store.Info(missing)).Message);
        Assert.Equal([new BlobInfo(Digest.Compute(b), 20)], _store.List());
    }

    private sealed class ThrowingStream : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("must not be read");
        public override int Read(Span<byte> buffer) => throw new InvalidOperationException("must not be read");
    }

    private sealed class SlowStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(Span<byte> buffer)
        {
            Thread.Yield();
            return base.Read(buffer[..Math.Min(chunk, buffer.Length)]);
        }
    }
}
