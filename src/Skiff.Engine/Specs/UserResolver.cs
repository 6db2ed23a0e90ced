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

    /// <summary>The most supplementary groups the kernel takes (NGROUPS_MAX).</summary>
    private const int MaximumGroups = 65536;

    /// <summary>
    /// Resolves <paramref name="spec"/> against the files under <paramref name="rootfs"/> (a directory). The container
    /// or image wrote them, at whatever size: they are read line by line, keeping only the entries that match.
    /// </summary>
    public static ResolvedUser Resolve(string rootfs, string? spec)
    {
        using var root = OpenRoot(rootfs);
        return Resolve(ReadLines(root, "/etc/passwd"), ReadLines(root, "/etc/group"), spec);
    }

    /// <summary>Resolves <paramref name="spec"/> against passwd and group file contents (null: the file is absent).</summary>
    public static ResolvedUser Resolve(string? passwd, string? group, string? spec)
        => Resolve(passwd?.Split('\n') ?? [], group?.Split('\n') ?? [], spec);

    /// <summary>
    /// docker's --group-add: more supplementary groups, by number (need not exist) or by name (must, in the
    /// /etc/group under <paramref name="rootfs"/>).
    /// </summary>
    public static ResolvedUser AddGroups(ResolvedUser user, string rootfs, IReadOnlyList<string> groupAdd)
    {
        if (groupAdd.Count == 0)
            return user;
        var named = groupAdd.Where(g => !uint.TryParse(g, out _)).ToHashSet(StringComparer.Ordinal);
        Dictionary<string, uint> byName = [];
        if (named.Count > 0)
        {
            using var root = OpenRoot(rootfs);
            byName = ParseGroup(ReadLines(root, "/etc/group")).Where(g => named.Contains(g.Name)).DistinctBy(g => g.Name).ToDictionary(g => g.Name, g => g.Gid);
        }
        var gids = user.AdditionalGids.ToList();
        foreach (var name in groupAdd)
        {
            var gid = uint.TryParse(name, out var number) ? number
                : byName.TryGetValue(name, out var found) ? found
                : throw new EngineException(ErrorKind.InvalidArgument, $"unable to find group {name}: no matching entries in the container's /etc/group");
            if (!gids.Contains(gid))
                gids.Add(gid);
        }
        return user with { AdditionalGids = gids };
    }

    private static FileDescriptor OpenRoot(string rootfs)
        => FileDescriptor.Wrap(Libc.Open(rootfs, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", rootfs);

    private static ResolvedUser Resolve(IEnumerable<string> passwd, IEnumerable<string> group, string? spec)
    {
        spec = string.IsNullOrEmpty(spec) ? "0" : spec;
        var colon = spec.IndexOf(':');
        var userPart = colon < 0 ? spec : spec[..colon];
        var groupPart = colon < 0 ? null : spec[(colon + 1)..];
        if (userPart.Length == 0 || groupPart is { Length: 0 })
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid user \"{spec}\": expected USER[:GROUP] with names or numeric ids");

        PasswdEntry? entry;
        uint uid, gid = 0;
        string home = "/";
        if (uint.TryParse(userPart, out uid))
        {
            entry = ParsePasswd(passwd).FirstOrDefault(u => u.Uid == uid);
        }
        else
        {
            entry = ParsePasswd(passwd).FirstOrDefault(u => u.Name == userPart)
                ?? throw new EngineException(ErrorKind.InvalidArgument, $"unable to find user {userPart}: no matching entries in the container's /etc/passwd");
            uid = entry.Uid;
        }
        if (entry is not null)
        {
            gid = entry.Gid;
            home = entry.Home.Length > 0 ? entry.Home : "/";
        }

        bool numericGroup = groupPart is not null && uint.TryParse(groupPart, out gid);
        GroupEntry? named = null;
        var memberOf = new List<uint>();
        if (entry is not null || (groupPart is not null && !numericGroup))
        {
            foreach (var g in ParseGroup(group))
            {
                if (groupPart is not null && !numericGroup && named is null && g.Name == groupPart)
                    named = g;
                if (entry is not null && g.Members.Contains(entry.Name) && !memberOf.Contains(g.Gid))
                {
                    if (memberOf.Count == MaximumGroups)
                        throw new EngineException(ErrorKind.FailedPrecondition, $"user {entry.Name} is in more than {MaximumGroups} groups in the container's /etc/group");
                    memberOf.Add(g.Gid);
                }
            }
        }
        if (groupPart is not null && !numericGroup)
            gid = (named ?? throw new EngineException(ErrorKind.InvalidArgument, $"unable to find group {groupPart}: no matching entries in the container's /etc/group")).Gid;
        return new ResolvedUser(uid, gid, memberOf.Where(g => g != gid).ToList(), home);
    }

    private static IEnumerable<string> ReadLines(FileDescriptor root, string path)
    {
        using var file = SmallFile.TryOpenInRoot(root, path);
        if (file is null)
            yield break;
        using var reader = new LineReader(file, 0);
        foreach (var line in reader.ReadNew(bytes => Encoding.UTF8.GetString(bytes.Span)))
            yield return line;
    }

    private static IEnumerable<PasswdEntry> ParsePasswd(IEnumerable<string> lines)
    {
        foreach (var fields in Fields(lines))
        {
            if (fields.Length >= 4 && uint.TryParse(fields[2], out var uid) && uint.TryParse(fields[3], out var gid))
                yield return new PasswdEntry(fields[0], uid, gid, fields.Length >= 6 ? fields[5] : "");
        }
    }

    private static IEnumerable<GroupEntry> ParseGroup(IEnumerable<string> lines)
    {
        foreach (var fields in Fields(lines))
        {
            if (fields.Length >= 3 && uint.TryParse(fields[2], out var gid))
            {
                var members = fields.Length >= 4 ? fields[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
                yield return new GroupEntry(fields[0], gid, members);
            }
        }
    }

    private static IEnumerable<string[]> Fields(IEnumerable<string> lines)
    {
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            yield return line.Split(':');
        }
    }
}
