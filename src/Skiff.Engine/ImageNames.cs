using Skiff.Images.References;

namespace Skiff.Engine;

/// <summary>Image names as docker shows them and names them in events.</summary>
public static class ImageNames
{
    /// <summary>docker's short form of a stored name: <c>docker.io/library/busybox:latest</c> → <c>busybox:latest</c>.</summary>
    public static string Familiar(string name) => ImageReference.TryParse(name, out var reference) ? reference.FamiliarString : name;

    /// <summary>A name split as the REPOSITORY and TAG (or DIGEST) columns show it.</summary>
    public static (string Repository, string TagOrDigest) Split(string familiarName)
    {
        int at = familiarName.IndexOf('@');
        if (at >= 0)
            return (familiarName[..at], familiarName[(at + 1)..]);
        int colon = familiarName.LastIndexOf(':');
        return colon > familiarName.LastIndexOf('/') ? (familiarName[..colon], familiarName[(colon + 1)..]) : (familiarName, "");
    }
}
