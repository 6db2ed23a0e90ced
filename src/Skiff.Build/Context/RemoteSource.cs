using System.Security.Cryptography;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Build.Context;

/// <summary>
/// A file ADD fetched from an http(s) URL, in a private directory of its own that <see cref="Dispose"/> removes:
/// <see cref="Tree"/> and <see cref="Name"/> are a source for <see cref="SourceTree.Plan"/> and
/// <see cref="CopyApplier.Apply"/>, so it is written as any COPY source is.
/// </summary>
public sealed class FetchedFile(string directory, string name, string digest) : IDisposable
{
    public SourceTree Tree { get; } = new(directory, SourceScope.Rootfs, IgnorePatterns.None);

    /// <summary>The file's name: the URL's last path segment, as BuildKit names it (<see cref="RemoteSource.NameOf"/>).</summary>
    public string Name => name;

    /// <summary>"sha256:..." of the contents: part of the step's cache key.</summary>
    public string Digest => digest;

    public void Dispose() => FileTree.Delete(directory);
}

/// <summary>ADD's http(s) sources.</summary>
public static class RemoteSource
{
    public static bool IsUrl(string source)
        => source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A git repository as BuildKit's ADD recognizes one (git://, ssh://, git@host:path, or an http(s) URL whose path
    /// ends in .git, with an optional #ref): skiff does not clone, and fetching its web page instead would put the
    /// wrong file in the image.
    /// </summary>
    public static bool IsGitRepository(string source)
    {
        if (source.StartsWith("git://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase)
            || source.StartsWith("git@", StringComparison.Ordinal))
            return true;
        if (!IsUrl(source))
            return false;
        int fragment = source.IndexOf('#');
        string location = fragment < 0 ? source : source[..fragment];
        return Uri.TryCreate(location, UriKind.Absolute, out var uri) && uri.AbsolutePath.EndsWith(".git", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Downloads <paramref name="url"/> into a new 0700 directory under <paramref name="temporaryRoot"/>, streaming it
    /// to disk (bounded memory), as a file of mode 0600 (docker's mode for a fetched file) with the server's
    /// Last-Modified time. <paramref name="checksum"/> (ADD --checksum, "sha256:hex", "sha384:" or "sha512:") is
    /// verified before anything is kept. A failure leaves nothing behind.
    /// </summary>
    public static async Task<FetchedFile> FetchAsync(HttpClient client, string url, string? checksum, string temporaryRoot, CancellationToken cancellationToken = default)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new BuildException($"ADD source {url} is not an http or https URL");
        var name = NameOf(uri);
        var expected = checksum is null ? default : ParseChecksum(checksum);

        PrivateStore.EnsureDirectory(temporaryRoot);
        var directory = Path.Combine(temporaryRoot, "add-" + Convert.ToHexStringLower(SecureRandom.Bytes(8)));
        Errno.Check(Libc.Mkdir(directory, PrivateStore.DirectoryMode), "mkdir", directory);
        try
        {
            Errno.Check(Libc.Chmod(directory, PrivateStore.DirectoryMode), "chmod", directory);
            var path = Path.Combine(directory, name);
            using var response = await Send(client, uri, url, cancellationToken).ConfigureAwait(false);
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var verify = expected.Algorithm is { } algorithm ? IncrementalHash.CreateHash(algorithm) : null;
            using (var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                var buffer = new byte[81920];
                int read;
                try
                {
                    while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        sha256.AppendData(buffer, 0, read);
                        verify?.AppendData(buffer, 0, read);
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (HttpRequestException error)
                {
                    throw Unreachable(url, error);
                }
            }
            Errno.Check(Libc.Chmod(path, PrivateStore.FileMode), "chmod", path);
            if (verify is not null && !CryptographicOperations.FixedTimeEquals(verify.GetHashAndReset(), expected.Value))
                throw new BuildException($"ADD {url}: the contents do not match --checksum={checksum}; check the checksum or the URL");
            if (response.Content.Headers.LastModified is { } modified)
                File.SetLastWriteTimeUtc(path, modified.UtcDateTime);
            return new FetchedFile(directory, name, "sha256:" + Convert.ToHexStringLower(sha256.GetHashAndReset()));
        }
        catch
        {
            FileTree.Delete(directory);
            throw;
        }
    }

    /// <summary>
    /// The fetched file's name as BuildKit's: the last segment of the URL's path (Go's path.Base, query left out), or
    /// "__unnamed__" when the path has none.
    /// </summary>
    public static string NameOf(Uri uri)
    {
        string path = Uri.UnescapeDataString(uri.AbsolutePath).TrimEnd('/');
        string name = path[(path.LastIndexOf('/') + 1)..];
        return name.Length == 0 || name is "." or ".." ? "__unnamed__" : name;
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, Uri uri, string url, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException error)
        {
            throw Unreachable(url, error);
        }
        if (response.IsSuccessStatusCode)
            return response;
        using (response)
        {
            throw new BuildException(response.StatusCode == System.Net.HttpStatusCode.NotFound ? ErrorKind.NotFound : ErrorKind.Unavailable,
                $"ADD {url}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}; check the URL");
        }
    }

    private static BuildException Unreachable(string url, HttpRequestException error)
        => new(ErrorKind.Unavailable, $"ADD cannot fetch {url}: {error.Message}; check the address and the network, or put the file in the build context and COPY it", error);

    private static (HashAlgorithmName? Algorithm, byte[] Value) ParseChecksum(string checksum)
    {
        int colon = checksum.IndexOf(':');
        HashAlgorithmName? algorithm = colon < 0 ? null : checksum[..colon] switch
        {
            "sha256" => HashAlgorithmName.SHA256,
            "sha384" => HashAlgorithmName.SHA384,
            "sha512" => HashAlgorithmName.SHA512,
            _ => null,
        };
        int length = algorithm == HashAlgorithmName.SHA256 ? 64 : algorithm == HashAlgorithmName.SHA384 ? 96 : 128;
        var hex = colon < 0 ? "" : checksum[(colon + 1)..];
        if (algorithm is null || hex.Length != length || !hex.All(Uri.IsHexDigit))
            throw new BuildException($"ADD --checksum={checksum} is not a digest; give sha256:<64 hex digits> (or sha384, sha512)");
        return (algorithm, Convert.FromHexString(hex));
    }
}
