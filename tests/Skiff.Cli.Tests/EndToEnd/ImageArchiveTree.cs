using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using Skiff.Images.Layers;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// The root filesystem and config of the first image of a docker-archive, read without unpacking: its layers applied
/// in order in memory, whiteouts (`.wh.NAME`) removing a path of the layers below, opaque markers (`.wh..wh..opq`)
/// hiding a directory's lower contents, hard links sharing one entry. Two images compare file for file whatever
/// tool wrote their layers (how many, in which order, whiteout or opaque for the same deletion).
/// </summary>
internal sealed class ImageArchiveTree
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";

    /// <summary>What a path holds; hard links to one file share one instance.</summary>
    private sealed class Node(string description)
    {
        public string Description { get; } = description;
    }

    private readonly SortedDictionary<string, Node> _paths = new(StringComparer.Ordinal);

    public JsonElement Config { get; private init; }

    public static ImageArchiveTree Read(string archive)
    {
        using var file = File.OpenRead(archive);
        var members = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var reader = new TarReader(file))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is null)
                    continue;
                var data = new MemoryStream();
                entry.DataStream.CopyTo(data);
                members[Normalize(entry.Name)] = data.ToArray();
            }
        }
        var manifest = JsonDocument.Parse(members["manifest.json"]).RootElement[0];
        var config = JsonDocument.Parse(members[Normalize(manifest.GetProperty("Config").GetString()!)]).RootElement;
        var tree = new ImageArchiveTree { Config = config.GetProperty("config").Clone() };
        foreach (var layer in manifest.GetProperty("Layers").EnumerateArray())
            tree.Apply(members[Normalize(layer.GetString()!)]);
        return tree;
    }

    /// <summary>One line a path: its name, type, permission bits with setuid/setgid/sticky, owner, then content hash,
    /// link target or device numbers, then xattrs. Modification times are left out on purpose.</summary>
    public List<string> Lines(IEnumerable<string> leftOut)
    {
        var skip = leftOut.ToHashSet(StringComparer.Ordinal);
        return [.. _paths.Where(path => !skip.Contains(path.Key)).Select(path => $"{path.Key} {path.Value.Description}")];
    }

    /// <summary>Paths that are one file (hard links), as sorted groups of two or more.</summary>
    public List<string> HardLinkGroups()
        => [.. _paths.GroupBy(path => path.Value, ReferenceEqualityComparer.Instance)
            .Where(group => group.Count() > 1)
            .Select(group => string.Join(" = ", group.Select(path => path.Key)))
            .Order(StringComparer.Ordinal)];

    /// <summary>The entry at <paramref name="path"/> is a placeholder: an empty directory or an empty regular file.</summary>
    public bool IsEmptyPlaceholder(string path)
        => _paths.TryGetValue(path, out var node)
            && (node.Description.StartsWith("d ", StringComparison.Ordinal) && !_paths.Keys.Any(other => other.StartsWith(path + "/", StringComparison.Ordinal))
                || node.Description.StartsWith("f ", StringComparison.Ordinal) && node.Description.Contains(" size=0 ", StringComparison.Ordinal));

    private void Apply(byte[] layer)
    {
        using var plain = LayerDecompression.Open(new MemoryStream(layer), out _);
        using var reader = new TarReader(plain);
        var added = new HashSet<string>(StringComparer.Ordinal);
        while (reader.GetNextEntry() is { } entry)
        {
            string path = Normalize(entry.Name);
            if (path.Length == 0)
                continue; // the root directory: its mode is the unpacker's, not the image's
            string name = Path.GetFileName(path);
            string parent = Path.GetDirectoryName(path) ?? "";
            if (name == OpaqueMarker)
            {
                // Hides what the layers below have in the directory, not what this layer adds to it.
                string prefix = parent.Length == 0 ? "" : parent + "/";
                foreach (string below in _paths.Keys.Where(other => other.StartsWith(prefix, StringComparison.Ordinal) && !added.Contains(other)).ToList())
                    _paths.Remove(below);
                continue;
            }
            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                Remove(Path.Combine(parent, name[WhiteoutPrefix.Length..]));
                continue;
            }
            if (entry.EntryType != TarEntryType.Directory || _paths.TryGetValue(path, out var existing) && !existing.Description.StartsWith("d ", StringComparison.Ordinal))
                Remove(path); // a directory over a directory keeps its contents; anything else replaces the path
            _paths[path] = entry.EntryType == TarEntryType.HardLink
                ? _paths[Normalize(entry.LinkName)]
                : new Node(Describe(entry));
            added.Add(path);
        }
    }

    private void Remove(string path)
    {
        _paths.Remove(path);
        foreach (string below in _paths.Keys.Where(other => other.StartsWith(path + "/", StringComparison.Ordinal)).ToList())
            _paths.Remove(below);
    }

    private static string Describe(TarEntry entry)
    {
        string type = entry.EntryType switch
        {
            TarEntryType.Directory => "d",
            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => "f",
            TarEntryType.SymbolicLink => "l",
            TarEntryType.CharacterDevice => "c",
            TarEntryType.BlockDevice => "b",
            TarEntryType.Fifo => "p",
            _ => entry.EntryType.ToString(),
        };
        string description = $"{type} {Convert.ToString((int)entry.Mode, 8).PadLeft(4, '0')} {entry.Uid}:{entry.Gid}";
        description += type switch
        {
            "f" => $" size={entry.Length} {Hash(entry)}",
            "l" => $" -> {entry.LinkName}",
            "c" or "b" when entry is PosixTarEntry device => $" {device.DeviceMajor}:{device.DeviceMinor}",
            _ => "",
        };
        if (entry is PaxTarEntry pax)
        {
            foreach (var (key, value) in pax.ExtendedAttributes.Where(attribute => attribute.Key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal)).OrderBy(attribute => attribute.Key, StringComparer.Ordinal))
                description += $" {key["SCHILY.xattr.".Length..]}={value}";
        }
        return description;
    }

    private static string Hash(TarEntry entry)
        => entry.DataStream is null ? Convert.ToHexStringLower(SHA256.HashData([])) : Convert.ToHexStringLower(SHA256.HashData(entry.DataStream));

    private static string Normalize(string name)
    {
        string path = name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name;
        return path.Trim('/') is "." ? "" : path.Trim('/');
    }
}
