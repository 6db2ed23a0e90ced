using System.Security.Cryptography;

namespace Skiff.Oci.Image;

/// <summary>
/// A content digest as the OCI image-spec writes it: <c>algorithm:encoded</c>. Only the algorithms the
/// image-spec registers and registries serve are accepted (sha256 and sha512, lowercase hex of the exact
/// length), because a digest we cannot verify is worse than an error: it would let unverified bytes into the
/// content store under a name that claims they were checked.
/// </summary>
public readonly record struct Digest
{
    public const string Sha256 = "sha256";
    public const string Sha512 = "sha512";

    private Digest(string algorithm, string encoded)
    {
        Algorithm = algorithm;
        Encoded = encoded;
    }

    /// <summary><c>sha256</c> or <c>sha512</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The lowercase hex part after the colon.</summary>
    public string Encoded { get; }

    public override string ToString() => $"{Algorithm}:{Encoded}";

    /// <summary>Parses <c>sha256:&lt;64 hex&gt;</c> or <c>sha512:&lt;128 hex&gt;</c>; throws <see cref="FormatException"/> naming the input.</summary>
    public static Digest Parse(string value)
        => TryParse(value, out var digest, out var error) ? digest : throw new FormatException($"invalid digest \"{value}\": {error}");

    public static bool TryParse(string? value, out Digest digest) => TryParse(value, out digest, out _);

    public static bool TryParse(string? value, out Digest digest, out string error)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "empty";
            return false;
        }
        int colon = value.IndexOf(':');
        if (colon <= 0)
        {
            error = "expected algorithm:hex, e.g. sha256:<64 hex digits>";
            return false;
        }
        string algorithm = value[..colon];
        string encoded = value[(colon + 1)..];
        int expectedLength;
        switch (algorithm)
        {
            case Sha256: expectedLength = 64; break;
            case Sha512: expectedLength = 128; break;
            default:
                error = $"unsupported digest algorithm \"{algorithm}\" (supported: sha256, sha512)";
                return false;
        }
        if (encoded.Length != expectedLength)
        {
            error = $"{algorithm} needs {expectedLength} hex digits, got {encoded.Length}";
            return false;
        }
        foreach (char c in encoded)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                error = $"'{c}' is not a lowercase hex digit";
                return false;
            }
        }
        digest = new Digest(algorithm, encoded);
        error = "";
        return true;
    }

    /// <summary>The incremental hash that verifies content against this digest.</summary>
    public IncrementalHash CreateHash() => CreateHash(Algorithm);

    public static IncrementalHash CreateHash(string algorithm) => algorithm switch
    {
        Sha256 => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        Sha512 => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw new ArgumentException($"unsupported digest algorithm \"{algorithm}\"", nameof(algorithm)),
    };

    /// <summary>Builds a digest from a finished hash value.</summary>
    public static Digest FromHash(string algorithm, ReadOnlySpan<byte> hash)
        => Parse($"{algorithm}:{Convert.ToHexStringLower(hash)}");

    /// <summary>The digest of <paramref name="data"/> with <paramref name="algorithm"/> (sha256 by default).</summary>
    public static Digest Compute(ReadOnlySpan<byte> data, string algorithm = Sha256)
    {
        using var hash = CreateHash(algorithm);
        hash.AppendData(data);
        return FromHash(algorithm, hash.GetHashAndReset());
    }
}
