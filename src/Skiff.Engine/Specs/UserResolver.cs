using System.Text;
using Skiff.Interop;
using static Skiff.Interop.Interop;

namespace Skiff.Engine.Specs;

/// <summary>The identity a container's process runs as, and the HOME its passwd entry names.</summary>
public sealed record ResolvedUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids, string Home);

/// <summary>
/// `-u` / the image's User resolved through the container's own /etc/passwd and /etc/group, with runc's
/// GetExecUser rules: "name", "uid", "name:group", "uid:gid"; a numeric uid need not exist (gid 0, HOME /),
/// a name must; supplementary groups are the groups that list the user by name.
/// </summary>
public static class UserResolver
{
    private sealed record PasswdEntry(string Name, uint Uid, uint Gid, string Home);

    private sealed record GroupEntry(string Name, uint Gid, string[] Members);

    /// <summary>Resolves <paramref name="spec"/> against the files under <paramref name="rootfs"/> (a directory).</summary>
    public static ResolvedUser Resolve(string rootfs, string? spec)
    {
        using var root = FileDescriptor.Wrap(Libc.Open(rootfs, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", rootfs);
        return Resolve(ReadText(root, "/etc/passwd"), ReadText(root, "/etc/group"), spec);
    }

    /// <summary>Resolves <paramref name="spec"/> against passwd and group file contents (null: the file is absent).</summary>
    public static ResolvedUser Resolve(string? passwd, string? group, string? spec)
    {
        var users = ParsePasswd(passwd);
        var groups = ParseGroup(group);
        spec = string.IsNullOrEmpty(spec) ? "0" : spec;
        var colon = spec.IndexOf(':');
        var userPart = colon < 0 ? spec : spec[..colon];
        var groupPart = colon < 0 ? null : spec[(colon + 1)..];
        if (userPart.Length == 0 || groupPart is { Length: 0 })
            throw new EngineException($"invalid user \"{spec}\": expected USER[:GROUP] with names or numeric ids");

        PasswdEntry? entry;
        uint uid, gid = 0;
        string home = "/";
        if (uint.TryParse(userPart, out uid))
        {
            entry = users.FirstOrDefault(u => u.Uid == uid);
        }
        else
        {
            entry = users.FirstOrDefault(u => u.Name == userPart)
                ?? throw new EngineException($"unable to find user {userPart}: no matching entries in the container's /etc/passwd");
            uid = entry.Uid;
        }
        if (entry is not null)
        {
            gid = entry.Gid;
            home = entry.Home.Length > 0 ? entry.Home : "/";
        }

        if (groupPart is not null)
        {
            if (!uint.TryParse(groupPart, out gid))
            {
                gid = (groups.FirstOrDefault(g => g.Name == groupPart)
                    ?? throw new EngineException($"unable to find group {groupPart}: no matching entries in the container's /etc/group")).Gid;
            }
        }

        var additional = entry is null
            ? []
            : groups.Where(g => g.Members.Contains(entry.Name) && g.Gid != gid).Select(g => g.Gid).Distinct().ToList();
        return new ResolvedUser(uid, gid, additional, home);
    }

    private static string? ReadText(FileDescriptor root, string path)
        => SmallFile.TryReadInRoot(root, path) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    private static List<PasswdEntry> ParsePasswd(string? text)
    {
        var entries = new List<PasswdEntry>();
        foreach (var fields in Lines(text))
        {
            if (fields.Length >= 4 && uint.TryParse(fields[2], out var uid) && uint.TryParse(fields[3], out var gid))
                entries.Add(new PasswdEntry(fields[0], uid, gid, fields.Length >= 6 ? fields[5] : ""));
        }
        return entries;
    }

    private static List<GroupEntry> ParseGroup(string? text)
    {
        var entries = new List<GroupEntry>();
        foreach (var fields in Lines(text))
        {
            if (fields.Length >= 3 && uint.TryParse(fields[2], out var gid))
            {
                var members = fields.Length >= 4 ? fields[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
                entries.Add(new GroupEntry(fields[0], gid, members));
            }
        }
        return entries;
    }

    private static IEnumerable<string[]> Lines(string? text)
    {
        if (text is null)
            yield break;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            yield return line.Split(':');
        }
    }
}
