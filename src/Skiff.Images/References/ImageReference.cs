using System.Text.RegularExpressions;
using Skiff.Oci.Image;

namespace Skiff.Images.References;

/// <summary>
/// A normalized image reference, <c>domain/path[:tag][@digest]</c>, parsed the way docker and podman do
/// (the grammar and normalization of github.com/distribution/reference): <c>busybox</c> is
/// <c>docker.io/library/busybox:latest</c>, <c>user/repo</c> is <c>docker.io/user/repo:latest</c>, a first
/// component with a '.' or ':' or equal to <c>localhost</c> (or with an uppercase letter) is a registry host.
/// A reference with neither tag nor digest gets the tag <c>latest</c>; one with both keeps both (the digest
/// decides what is pulled, the tag is what the image is stored under), as podman does.
/// </summary>
public sealed partial record ImageReference
{
    public const string DefaultDomain = "docker.io";
    public const string DefaultTag = "latest";
    private const string LegacyDefaultDomain = "index.docker.io";
    private const string OfficialRepositoryPrefix = "library/";

    /// <summary>distribution/reference's NameTotalLengthMax: registries reject longer names.</summary>
    public const int MaxNameLength = 255;

    public const int MaxTagLength = 128;

    private ImageReference(string domain, string path, string? tag, Digest? digest)
    {
        Domain = domain;
        Path = path;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>Registry host, with port if any: <c>docker.io</c>, <c>localhost:5000</c>, <c>[::1]:5000</c>.</summary>
    public string Domain { get; }

    /// <summary>Repository path inside the registry: <c>library/busybox</c>.</summary>
    public string Path { get; }

    /// <summary>The tag; null only when the reference was given by digest alone.</summary>
    public string? Tag { get; }

    public Digest? Digest { get; }

    /// <summary><c>domain/path</c>, without tag or digest.</summary>
    public string Name => $"{Domain}/{Path}";

    /// <summary>The short form docker prints: <c>busybox:latest</c>, <c>user/repo:1</c>, <c>quay.io/x/y:2</c>.</summary>
    public string FamiliarString => Format(FamiliarName);

    /// <summary>The name without <c>docker.io/</c> and, for official images, <c>library/</c>.</summary>
    public string FamiliarName
    {
        get
        {
            if (Domain != DefaultDomain)
                return Name;
            if (Path.StartsWith(OfficialRepositoryPrefix, StringComparison.Ordinal) && Path.IndexOf('/', OfficialRepositoryPrefix.Length) < 0)
                return Path[OfficialRepositoryPrefix.Length..];
            return Path;
        }
    }

    public override string ToString() => Format(Name);

    private string Format(string name)
        => name + (Tag is null ? "" : ":" + Tag) + (Digest is { } digest ? "@" + digest : "");

    /// <summary>Parses and normalizes <paramref name="input"/>; throws <see cref="InvalidReferenceException"/>.</summary>
    public static ImageReference Parse(string input)
        => TryParse(input, out var reference, out var error) ? reference : throw new InvalidReferenceException(input, error);

    public static bool TryParse(string? input, out ImageReference reference) => TryParse(input, out reference, out _);

    public static bool TryParse(string? input, out ImageReference reference, out string error)
    {
        reference = null!;
        if (string.IsNullOrEmpty(input))
        {
            error = "empty reference";
            return false;
        }
        // A bare 64-hex string is an image ID, never a repository name (docker refuses it for the same reason:
        // `docker pull <id>` must not silently mean docker.io/library/<id>).
        if (IdentifierRegex().IsMatch(input))
        {
            error = "a 64-character hexadecimal string is an image ID, not a repository name";
            return false;
        }

        var (domain, remainder) = SplitDomain(input);
        int tagSeparator = remainder.IndexOf(':');
        string remote = tagSeparator >= 0 ? remainder[..tagSeparator] : remainder;
        int digestSeparator = remote.IndexOf('@');
        if (digestSeparator >= 0)
            remote = remote[..digestSeparator];
        if (!remote.Equals(remote.ToLowerInvariant(), StringComparison.Ordinal))
        {
            error = $"repository name \"{remote}\" must be lowercase";
            return false;
        }

        var match = ReferenceRegex().Match($"{domain}/{remainder}");
        if (!match.Success)
        {
            error = Diagnose(domain, remainder);
            return false;
        }
        string name = match.Groups["name"].Value;
        if (name.Length > MaxNameLength)
        {
            error = $"repository name is {name.Length} characters, more than {MaxNameLength}";
            return false;
        }
        Digest? digest = null;
        if (match.Groups["digest"].Success)
        {
            if (!Oci.Image.Digest.TryParse(match.Groups["digest"].Value, out var parsed, out var digestError))
            {
                error = $"digest \"{match.Groups["digest"].Value}\": {digestError}";
                return false;
            }
            digest = parsed;
        }
        string? tag = match.Groups["tag"].Success ? match.Groups["tag"].Value : null;
        if (tag is null && digest is null)
            tag = DefaultTag;

        reference = new ImageReference(domain, name[(domain.Length + 1)..], tag, digest);
        error = "";
        return true;
    }

    /// <summary>distribution/reference's splitDockerDomain: decides whether the first component is a host.</summary>
    private static (string Domain, string Remainder) SplitDomain(string input)
    {
        int slash = input.IndexOf('/');
        if (slash < 0)
            return (DefaultDomain, OfficialRepositoryPrefix + input);

        string first = input[..slash];
        string rest = input[(slash + 1)..];
        string domain, remainder;
        if (first == LegacyDefaultDomain)
            (domain, remainder) = (DefaultDomain, rest);
        else if (first == "localhost" || first.AsSpan().IndexOfAny('.', ':') >= 0 || first != first.ToLowerInvariant())
            (domain, remainder) = (first, rest);
        else
            (domain, remainder) = (DefaultDomain, input);

        if (domain == DefaultDomain && !remainder.Contains('/'))
            remainder = OfficialRepositoryPrefix + remainder;
        return (domain, remainder);
    }

    /// <summary>Finds which part of a reference that failed the grammar is at fault, for a useful message.</summary>
    private static string Diagnose(string domain, string remainder)
    {
        string namePart = remainder;
        int at = remainder.IndexOf('@');
        if (at >= 0)
        {
            string digestPart = remainder[(at + 1)..];
            if (!Oci.Image.Digest.TryParse(digestPart, out _, out var digestError))
                return $"digest \"{digestPart}\": {digestError}";
            namePart = remainder[..at];
        }
        int colon = namePart.LastIndexOf(':');
        if (colon >= 0 && namePart.IndexOf('/', colon) < 0)
        {
            string tag = namePart[(colon + 1)..];
            if (tag.Length == 0)
                return "empty tag after ':'";
            if (tag.Length > MaxTagLength)
                return $"tag is {tag.Length} characters, more than {MaxTagLength}";
            if (!TagRegex().IsMatch(tag))
                return $"tag \"{tag}\" may contain only letters, digits, '_', '.' and '-', and must not start with '.' or '-'";
            namePart = namePart[..colon];
        }
        if (!DomainRegex().IsMatch(domain))
            return $"registry host \"{domain}\" is not a valid host[:port]";
        return $"repository name \"{namePart}\" must be lowercase letters and digits separated by '/', '.', '_', '__' or '-'";
    }

    // The grammar of distribution/reference regexp.go. Go's \w is ASCII-only, so it is spelled out; \z because
    // .NET's $ also matches before a trailing newline.
    private const string AlphaNumeric = "[a-z0-9]+";
    private const string Separator = "(?:[._]|__|[-]+)";
    private const string PathComponent = AlphaNumeric + "(?:" + Separator + AlphaNumeric + ")*";
    private const string RemoteName = PathComponent + "(?:/" + PathComponent + ")*";
    private const string DomainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private const string DomainName = DomainNameComponent + @"(?:\." + DomainNameComponent + ")*";
    private const string Ipv6Address = @"\[(?:[a-fA-F0-9:]+)\]";
    private const string DomainAndPort = "(?:" + DomainName + "|" + Ipv6Address + ")(?::[0-9]+)?";
    private const string TagPattern = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    private const string DigestPattern = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

    [GeneratedRegex("^(?<name>(?:" + DomainAndPort + "/)?" + RemoteName + ")(?::(?<tag>" + TagPattern + "))?(?:@(?<digest>" + DigestPattern + "))?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ReferenceRegex();

    [GeneratedRegex("^" + DomainAndPort + "\\z", RegexOptions.CultureInvariant)]
    private static partial Regex DomainRegex();

    [GeneratedRegex("^" + TagPattern + "\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagRegex();

    [GeneratedRegex("^[a-f0-9]{64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierRegex();
}
