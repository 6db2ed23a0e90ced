using System.Globalization;

namespace Skiff.Engine.Specs;

/// <summary>
/// A block device's weight or throttle as docker takes it: "/dev/sda:200" (weight), "/dev/sda:10mb" (bytes per
/// second), "/dev/sda:1000" (IO per second). The device's numbers are looked up when the container is made.
/// </summary>
public sealed record BlockDeviceRate(string Path, long Rate)
{
    /// <summary>docker's --blkio-weight-device: a weight of 10 to 1000 (0 is docker's "unset").</summary>
    public static BlockDeviceRate ParseWeight(string spec)
    {
        var (path, value) = Split(spec, "weight");
        if (!ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var weight) || weight is not (0 or (>= 10 and <= 1000)))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid weight for device \"{spec}\": expected DEVICE:WEIGHT with a weight of 10 to 1000");
        return new BlockDeviceRate(path, weight);
    }

    /// <summary>docker's --device-read-bps/--device-write-bps: a size per second with an optional unit (kb, mb, gb).</summary>
    public static BlockDeviceRate ParseBytesPerSecond(string spec)
    {
        var (path, value) = Split(spec, "rate");
        long rate;
        try
        {
            rate = ByteSize.Parse(value, "rate");
        }
        catch (EngineException)
        {
            rate = -1;
        }
        if (rate < 0 || !char.IsAsciiDigit(value.FirstOrDefault()))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid rate for device \"{spec}\": expected DEVICE:NUMBER[UNIT], a positive number and a unit kb, mb or gb if any");
        return new BlockDeviceRate(path, rate);
    }

    /// <summary>docker's --device-read-iops/--device-write-iops: a whole number of operations per second.</summary>
    public static BlockDeviceRate ParseIops(string spec)
    {
        var (path, value) = Split(spec, "rate");
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var rate))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid rate for device \"{spec}\": expected DEVICE:NUMBER, a positive whole number");
        return new BlockDeviceRate(path, rate);
    }

    private static (string Path, string Value) Split(string spec, string what)
    {
        var colon = spec.LastIndexOf(':');
        if (colon <= 0)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid device {what} \"{spec}\": expected DEVICE:VALUE, e.g. /dev/sda:{(what == "weight" ? "200" : "10mb")}");
        var path = spec[..colon];
        if (!path.StartsWith("/dev/", StringComparison.Ordinal))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid device path in \"{spec}\": it must be under /dev/");
        return (path, spec[(colon + 1)..]);
    }
}

/// <summary>The streams of a container a foreground `run` is attached to (docker's -a).</summary>
[Flags]
public enum AttachStreams
{
    None = 0,
    Stdin = 1,
    Stdout = 2,
    Stderr = 4,
    /// <summary>docker's default without -a: the output streams (and stdin with -i).</summary>
    Default = Stdout | Stderr,
}

public static class AttachStreamNames
{
    /// <summary>
    /// docker's rule: the streams named (stdin, stdout, stderr, in any case), else stdout and stderr; stdin as
    /// well when the container's stdin is kept open (-i).
    /// </summary>
    public static AttachStreams Parse(IReadOnlyList<string> names, bool interactive)
    {
        var streams = names.Count == 0 ? AttachStreams.Default : AttachStreams.None;
        foreach (var name in names)
        {
            streams |= name.ToLowerInvariant() switch
            {
                "stdin" => AttachStreams.Stdin,
                "stdout" => AttachStreams.Stdout,
                "stderr" => AttachStreams.Stderr,
                _ => throw new EngineException(ErrorKind.InvalidArgument, $"invalid stream \"{name}\" to attach to: valid streams are STDIN, STDOUT and STDERR"),
            };
        }
        return interactive ? streams | AttachStreams.Stdin : streams;
    }
}

/// <summary>docker's --cgroup-parent for the cgroupfs layout skiff uses.</summary>
public static class CgroupParents
{
    /// <summary>The cgroup parent as an absolute cgroup path inside each hierarchy.</summary>
    /// <remarks>
    /// ".." never climbs above the hierarchy's root (docker's test: "../../x" is "/x"). A relative parent is placed
    /// under the root too: docker places it under its daemon's cgroup, and skiff has no daemon whose cgroup would be
    /// the same for every command. systemd's "name.slice" form needs the systemd driver, which skiff does not use.
    /// </remarks>
    /// <exception cref="EngineException">InvalidArgument for a NUL byte or a systemd slice.</exception>
    public static string Normalize(string parent)
    {
        if (parent.Contains('\0'))
            throw new EngineException(ErrorKind.InvalidArgument, "invalid cgroup parent: it contains a NUL byte");
        if (parent.EndsWith(".slice", StringComparison.Ordinal) || parent.Contains(':'))
            throw new EngineException(ErrorKind.InvalidArgument,
                $"cgroup parent \"{parent}\" is a systemd slice: skiff places cgroups itself (the cgroupfs layout), so give a cgroup path such as /mygroup");
        return ContainerFiles.Clean(parent);
    }
}

/// <summary>docker's --volumes-from NAME[:ro|:rw].</summary>
public sealed record VolumesFromRequest(string Container, bool? ReadOnly)
{
    public static VolumesFromRequest Parse(string spec)
    {
        var colon = spec.IndexOf(':');
        var container = colon < 0 ? spec : spec[..colon];
        if (container.Length == 0)
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid volumes-from \"{spec}\": expected CONTAINER[:ro|:rw]");
        return (colon < 0 ? null : spec[(colon + 1)..]) switch
        {
            null => new VolumesFromRequest(container, null),
            "ro" => new VolumesFromRequest(container, true),
            "rw" => new VolumesFromRequest(container, false),
            var mode => throw new EngineException(ErrorKind.InvalidArgument, $"invalid mode \"{mode}\" in volumes-from \"{spec}\": expected ro or rw"),
        };
    }
}

/// <summary>docker's label files (--label-file) and their format.</summary>
public static class LabelFile
{
    /// <summary>
    /// docker's rules: leading white space is dropped, blank lines and lines starting with # are skipped, the rest
    /// is KEY=VALUE with the value kept as it is (trailing spaces too); a line without "=" is dropped, as docker
    /// drops it; a key with white space in it is an error. A UTF-8 byte order mark at the start is ignored.
    /// </summary>
    /// <exception cref="EngineException">InvalidArgument for a key with white space or none.</exception>
    public static List<KeyValuePair<string, string>> Parse(string text, string source)
    {
        var labels = new List<KeyValuePair<string, string>>();
        var lineNumber = 0;
        foreach (var raw in text.TrimStart('\uFEFF').Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r').TrimStart();
            if (line.Length == 0 || line[0] == '#')
                continue;
            var eq = line.IndexOf('=');
            var key = eq < 0 ? line : line[..eq];
            if (key.Contains(' ') || key.Contains('\t'))
                throw new EngineException(ErrorKind.InvalidArgument, $"label file {source}, line {lineNumber}: the label name \"{key}\" has white space in it");
            if (key.Length == 0)
                throw new EngineException(ErrorKind.InvalidArgument, $"label file {source}, line {lineNumber}: no label name before \"=\"");
            if (eq >= 0)
                labels.Add(new(key, line[(eq + 1)..]));
        }
        return labels;
    }
}
