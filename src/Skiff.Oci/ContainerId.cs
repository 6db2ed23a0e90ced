namespace Skiff.Oci;

/// <summary>Container ID rules (same as runc: <c>^[\w+-\.]+$</c>, which in Go means ASCII letters, digits and
/// <c>_ + , - .</c>; not "." or ".."; so an ID is always a single safe path component).</summary>
public static class ContainerId
{
    /// <summary>Longest ID accepted; IDs name directories and unix sockets.</summary>
    public const int MaxLength = 1024;

    /// <summary>True if <paramref name="id"/> is a valid container ID.</summary>
    public static bool IsValid(string? id) => Check(id) is null;

    /// <summary>Throws <see cref="OciConfigException"/> with a one-line message if <paramref name="id"/> is not valid.</summary>
    public static void Validate(string? id)
    {
        if (Check(id) is { } error) throw new OciConfigException(error);
    }

    private static string? Check(string? id)
    {
        if (string.IsNullOrEmpty(id)) return "container ID must not be empty";
        if (id is "." or "..") return $"invalid container ID \"{id}\": must not be \".\" or \"..\"";
        if (id.Length > MaxLength) return $"invalid container ID: longer than {MaxLength} characters";
        foreach (char c in id)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '+' or ',' or '-' or '.';
            if (!ok)
                return $"invalid container ID \"{Printable(id)}\": only letters, digits and _ + , - . are allowed";
        }
        return null;
    }

    private static string Printable(string s)
    {
        var chars = s.Select(c => char.IsControl(c) ? '?' : c).ToArray();
        return new string(chars);
    }
}
