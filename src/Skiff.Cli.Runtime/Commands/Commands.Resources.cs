using Skiff.Oci;
using Skiff.Runtime;

namespace Skiff.Cli.Runtime;

public static partial class Commands
{
    private static Flag[] UpdateFlags =>
    [
        new("resources", 'r', TakesValue: true, Help: "linux.resources JSON from a file, or - for stdin"),
        new("memory", TakesValue: true, Help: "memory limit in bytes (k, m, g suffixes)"),
        new("memory-reservation", TakesValue: true, Help: "memory soft limit in bytes"),
        new("memory-swap", TakesValue: true, Help: "memory plus swap limit in bytes, -1 for unlimited"),
        new("cpu-shares", TakesValue: true, Help: "relative CPU weight"),
        new("cpu-quota", TakesValue: true, Help: "CPU time per period in microseconds"),
        new("cpu-period", TakesValue: true, Help: "CFS period in microseconds"),
        new("cpuset-cpus", TakesValue: true, Help: "CPUs allowed (e.g. 0-1)"),
        new("cpuset-mems", TakesValue: true, Help: "memory nodes allowed"),
        new("pids-limit", TakesValue: true, Help: "maximum number of processes (0 or -1: no limit)"),
        new("blkio-weight", TakesValue: true, Help: "block IO weight (10-1000)"),
        Help,
    ];

    private static int Pause(Context context, ParsedArguments args)
    {
        context.Runtime.Pause(args.Positionals[0]);
        return 0;
    }

    private static int Resume(Context context, ParsedArguments args)
    {
        context.Runtime.Resume(args.Positionals[0]);
        return 0;
    }

    /// <summary>update: runc's flags, or a whole linux.resources document with --resources (flags then override it).</summary>
    private static int Update(Context context, ParsedArguments args)
    {
        var resources = args.Value("resources") switch
        {
            null => new LinuxResources(),
            "-" => OciJson.ParseResources(Console.In.ReadToEnd(), "stdin"),
            var file => OciJson.ReadResources(file),
        };
        if (args.Value("memory") is { } memory)
            (resources.Memory ??= new LinuxMemory()).Limit = Bytes("memory", memory);
        if (args.Value("memory-reservation") is { } reservation)
            (resources.Memory ??= new LinuxMemory()).Reservation = Bytes("memory-reservation", reservation);
        if (args.Value("memory-swap") is { } swap)
            (resources.Memory ??= new LinuxMemory()).Swap = Bytes("memory-swap", swap);
        if (args.Value("cpu-shares") is { } shares)
            (resources.CPU ??= new LinuxCPU()).Shares = (ulong)Number("cpu-shares", shares, 0);
        if (args.Value("cpu-quota") is { } quota)
            (resources.CPU ??= new LinuxCPU()).Quota = Number("cpu-quota", quota, -1);
        if (args.Value("cpu-period") is { } period)
            (resources.CPU ??= new LinuxCPU()).Period = (ulong)Number("cpu-period", period, 0);
        if (args.Value("cpuset-cpus") is { } cpus)
            (resources.CPU ??= new LinuxCPU()).Cpus = cpus;
        if (args.Value("cpuset-mems") is { } mems)
            (resources.CPU ??= new LinuxCPU()).Mems = mems;
        if (args.Value("pids-limit") is { } pids)
            resources.Pids = new LinuxPids { Limit = Number("pids-limit", pids, -1) };
        if (args.Value("blkio-weight") is { } weight)
            (resources.BlockIO ??= new LinuxBlockIO()).Weight = (ushort)Number("blkio-weight", weight, 10, 1000);
        context.Runtime.Update(args.Positionals[0], resources);
        return 0;
    }

    private static long Number(string flag, string text, long minimum, long maximum = long.MaxValue)
        => long.TryParse(text, out var value) && value >= minimum && value <= maximum
            ? value
            : throw new UsageException($"update: --{flag} must be a number between {minimum} and {maximum}, not \"{text}\"");

    /// <summary>Bytes with docker's binary suffixes (k, m, g, t; b optional), or -1 for unlimited.</summary>
    internal static long Bytes(string flag, string text)
    {
        if (text == "-1")
            return -1;
        var trimmed = text.Trim().ToLowerInvariant().TrimEnd('b');
        long multiplier = 1;
        if (trimmed.Length > 0 && "kmgt".Contains(trimmed[^1]))
        {
            multiplier = trimmed[^1] switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, _ => 1L << 40 };
            trimmed = trimmed[..^1];
        }
        if (!long.TryParse(trimmed, out var value) || value < 0)
            throw new UsageException($"update: --{flag} must be a size such as 64m or 1073741824, not \"{text}\"");
        return checked(value * multiplier);
    }
}
