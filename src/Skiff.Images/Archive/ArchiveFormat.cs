namespace Skiff.Images.Archive;

/// <summary>The two image archive formats of <c>skiff save --format</c>, named as podman names them.</summary>
public enum ArchiveFormat
{
    /// <summary><c>docker save</c>'s format: manifest.json, repositories, configs and uncompressed layer tars.</summary>
    DockerArchive,

    /// <summary>An OCI image layout (oci-layout, index.json, blobs/) in a tar, blobs as stored.</summary>
    OciArchive,
}
