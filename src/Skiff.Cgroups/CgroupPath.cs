namespace Skiff.Cgroups;

/// <summary>Lexical path helpers ('/' separated, no file system access).</summary>
internal static class CgroupPath
{
    public static string Join(string a, string b)
    {
        if (b.Length == 0 || b == "/") return a;
        if (a.Length == 0) return b;
        return a.TrimEnd('/') + "/" + b.TrimStart('/');
    }

    /// <summary>
    /// Cleans a path lexically ("a/./b//c" → "a/b/c"). Returns null when a ".." would step above the
    /// start of the path (for absolute paths: above "/"; for relative ones: above the base it is joined to).
    /// </summary>
    public static string? Clean(string path)
    {
        var isAbs = path.StartsWith('/');
        var parts = new List<string>();
        foreach (var p in path.Split('/'))
        {
            if (p.Length == 0 || p == ".") continue;
            if (p == "..")
            {
                if (parts.Count == 0) return null;
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(p);
        }
        var joined = string.Join('/', parts);
        return isAbs ? "/" + joined : joined;
    }

    public static string Parent(string path)
    {
        var trimmed = path.TrimEnd('/');
        var i = trimmed.LastIndexOf('/');
        return i <= 0 ? "/" : trimmed[..i];
    }

    /// <summary>Is <paramref name="path"/> equal to or below <paramref name="dir"/>?</summary>
    public static bool IsUnder(string path, string dir)
    {
        if (dir == "/") return path.StartsWith('/');
        return path == dir || path.StartsWith(dir + "/", StringComparison.Ordinal);
    }
}
