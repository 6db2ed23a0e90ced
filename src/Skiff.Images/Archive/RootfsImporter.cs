using System.Text.Json;
using Skiff.Images.Layers;
using Skiff.Oci.Image;
using Skiff.Storage.Content;

namespace Skiff.Images.Archive;

/// <summary>What <c>skiff import</c> takes besides the tarball.</summary>
public sealed record ImportOptions
{
    /// <summary><c>--change</c> instructions, applied in order (see <see cref="ImageChanges"/>).</summary>
    public IReadOnlyList<string> Changes { get; init; } = [];

    /// <summary><c>--message</c>: the comment of the image's history entry.</summary>
    public string? Message { get; init; }

    /// <summary>The image's creation time; now by default.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>The platform the config declares; the host's by default, as docker import does.</summary>
    public Platform? Platform { get; init; }

    /// <summary>Names for the new image, in full; returned in <see cref="LoadedImage.Tags"/>.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>
/// Turns a root filesystem tarball (plain, gzip or zstd) into a one-layer image in the content store: the tarball
/// is the layer blob as it is (its compression kept), with a config and an OCI manifest written for it.
/// </summary>
public static class RootfsImporter
{
    /// <summary>
    /// Imports <paramref name="tarball"/>. The changes are checked before anything is stored; a tarball that is not a
    /// tar (or is truncated) fails with an <see cref="ArchiveException"/> and leaves nothing in the store.
    /// </summary>
    public static LoadedImage Import(ContentStore content, Stream tarball, ImportOptions options)
    {
        var runConfig = ImageChanges.Apply(null, options.Changes);
        var staged = new StagedBlobs(content);
        try
        {
            var blob = staged.Add(tarball);
            if (blob.Size == 0)
                throw new ArchiveException("import: the tarball is empty");
            var (compression, diffId) = staged.InspectLayer(blob.Digest);
            var created = options.Created ?? DateTimeOffset.UtcNow;
            var platform = options.Platform ?? Platform.Host;
            var config = new ImageConfig
            {
                Created = created,
                Architecture = platform.Architecture,
                OS = platform.OS,
                Variant = platform.Variant,
                Config = runConfig,
                RootFs = new ImageRootFs { DiffIds = [diffId.ToString()] },
                History = [new ImageHistory { Created = created, CreatedBy = "skiff import", Comment = options.Message }],
            };
            var configBlob = staged.Add(JsonSerializer.SerializeToUtf8Bytes(config, ImageJsonContext.Default.ImageConfig));
            var configDescriptor = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configBlob.Digest, Size = configBlob.Size };
            return staged.StoreWithManifest(configDescriptor, [StagedBlobs.LayerDescriptor(blob, compression)], [diffId], options.Tags);
        }
        catch (Exception error)
        {
            staged.RollBack();
            if (error is InvalidDataException or EndOfStreamException or FormatException or LayerException)
                throw new ArchiveException($"import: not a valid tarball: {error.Message}", error);
            throw;
        }
    }
}
