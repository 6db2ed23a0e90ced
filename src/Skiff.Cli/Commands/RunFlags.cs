using System.Globalization;
using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Images.Service;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Seccomp;
using EngineImage = Skiff.Engine.ContainerImage;

namespace Skiff.Cli.Commands;

/// <summary>The flags `run` and `create` share (docker's names), and how they become an engine <see cref="CreateRequest"/>.</summary>
internal static class RunFlags
{
    public static readonly Flag[] Create =
    [
        new("interactive", 'i', Help: "keep standard input open"),
        new("tty", 't', Help: "allocate a pseudo-terminal"),
        new("rm", Help: "remove the container when it exits"),
        new("name", TakesValue: true, Help: "container name"),
        new("env", 'e', TakesValue: true, Repeatable: true, Help: "set an environment variable (KEY=VALUE, or KEY to copy it from here)"),
        new("env-file", TakesValue: true, Repeatable: true, Help: "read environment variables from a file"),
        new("workdir", 'w', TakesValue: true, Help: "working directory inside the container"),
        new("user", 'u', TakesValue: true, Help: "user[:group] (names or ids) to run as"),
        new("entrypoint", TakesValue: true, Help: "override the image's entrypoint (\"\" clears it)"),
        new("volume", 'v', TakesValue: true, Repeatable: true, Help: "bind mount or volume: [SOURCE:]TARGET[:ro]"),
        new("mount", TakesValue: true, Repeatable: true, Help: "type=bind|volume|tmpfs,source=...,target=...[,readonly]"),
        new("tmpfs", TakesValue: true, Repeatable: true, Help: "tmpfs mount: PATH[:OPTIONS]"),
        new("read-only", Help: "mount the root filesystem read-only"),
        new("hostname", 'h', TakesValue: true, Help: "container host name"),
        new("init", Help: "run a minimal init as pid 1 that reaps zombies and forwards signals"),
        new("restart", TakesValue: true, Help: "no, on-failure[:N], always or unless-stopped"),
        new("stop-signal", TakesValue: true, Help: "signal that stops the container"),
        new("stop-timeout", TakesValue: true, Help: "seconds to wait before killing on stop"),
        new("memory", 'm', TakesValue: true, Help: "memory limit (e.g. 64m)"),
        new("memory-swap", TakesValue: true, Help: "memory plus swap limit, -1 for unlimited swap"),
        new("cpus", TakesValue: true, Help: "number of CPUs (e.g. 0.5)"),
        new("pids-limit", TakesValue: true, Help: "maximum number of processes (-1: unlimited)"),
        new("shm-size", TakesValue: true, Help: "size of /dev/shm (default 64m)"),
        new("ulimit", TakesValue: true, Repeatable: true, Help: "NAME=SOFT[:HARD], e.g. nofile=1024:2048"),
        new("cap-add", TakesValue: true, Repeatable: true, Help: "add a capability (or ALL)"),
        new("cap-drop", TakesValue: true, Repeatable: true, Help: "drop a capability (or ALL)"),
        new("privileged", Help: "every capability and device, no seccomp, writable /sys"),
        new("security-opt", TakesValue: true, Repeatable: true, Help: "no-new-privileges, seccomp=FILE|unconfined, apparmor=PROFILE|unconfined, label=user:|role:|type:|level:|disable"),
        new("sysctl", TakesValue: true, Repeatable: true, Help: "namespaced kernel parameter KEY=VALUE"),
        new("device", TakesValue: true, Repeatable: true, Help: "host device: /dev/HOST[:/dev/CONTAINER[:rwm]]"),
        new("label", 'l', TakesValue: true, Repeatable: true, Help: "label KEY=VALUE"),
        new("pull", TakesValue: true, Help: "always, missing (default) or never"),
        new("network", TakesValue: true, Help: "none (default: loopback only) or host"),
        new("net", TakesValue: true, Help: "same as --network"),
        new("log-opt", TakesValue: true, Repeatable: true, Help: "max-size=SIZE, max-file=N"),
        new("runtime", TakesValue: true, Help: "path of a runc-compatible runtime (default skiff-runtime)"),
        new("tls-verify", TakesValue: true, Help: "false: pull over plain HTTP"),
        CliCommand.Help,
    ];

    public static CreateRequest Parse(CliContext context, ParsedArguments args, string command)
    {
        var imageName = args.Positionals[0];
        var image = ResolveImage(context, args, imageName, command);
        var security = args.Values("security-opt");
        var options = new RunOptions
        {
            Command = args.Positionals.Skip(1).ToList(),
            Entrypoint = args.Has("entrypoint") ? args.Value("entrypoint") : null,
            Env = Environment(args),
            WorkingDir = args.Value("workdir"),
            User = args.Value("user"),
            Hostname = args.Value("hostname"),
            Tty = args.Bool("tty"),
            ReadOnlyRootfs = args.Bool("read-only"),
            Init = args.Bool("init"),
            Privileged = args.Bool("privileged"),
            CapAdd = args.Values("cap-add"),
            CapDrop = args.Values("cap-drop"),
            NoNewPrivileges = security.Any(s => s is "no-new-privileges" or "no-new-privileges:true" or "no-new-privileges=true"),
            Sysctls = Pairs(args.Values("sysctl"), "--sysctl"),
            Devices = args.Values("device").Select(DeviceRequest.Parse).ToList(),
            Mounts = [.. args.Values("volume").Select(MountRequest.ParseVolume), .. args.Values("mount").Select(MountRequest.ParseMount), .. args.Values("tmpfs").Select(MountRequest.ParseTmpfs)],
            Ulimits = args.Values("ulimit").Select(UlimitRequest.Parse).ToList(),
            Memory = args.Value("memory") is { } memory ? ByteSize.Parse(memory, "memory limit") : null,
            MemorySwap = args.Value("memory-swap") is { } swap ? (swap == "-1" ? -1 : ByteSize.Parse(swap, "memory and swap limit")) : null,
            Cpus = args.Value("cpus") is { } cpus ? ParseDecimal(cpus, "--cpus") : null,
            PidsLimit = args.Value("pids-limit") is { } pids ? ParseLong(pids, "--pids-limit") : null,
            ShmSize = args.Value("shm-size") is { } shm ? ByteSize.Parse(shm, "shared memory size") : null,
            Network = (args.Value("network") ?? args.Value("net")) switch
            {
                null or "none" or "default" => NetworkMode.None,
                "host" => NetworkMode.Host,
                var other => throw new EngineException($"--network {other}: only none and host are supported (bridge networks are not there yet)"),
            },
            Labels = Pairs(args.Values("label"), "--label"),
        };
        options = options with
        {
            Seccomp = Seccomp(options, security),
            SecurityLabels = SecurityLabels.FromOptions(security, options.Privileged, SecurityModules.Host),
        };
        return new CreateRequest
        {
            Image = imageName,
            ImageInfo = new EngineImage(image.Id, context.ImageStore.Config(image).Config),
            Options = options,
            Name = args.Value("name"),
            Interactive = args.Bool("interactive"),
            AutoRemove = args.Bool("rm"),
            RestartPolicy = args.Value("restart") is { } restart ? RestartPolicy.Parse(restart) : RestartPolicy.No,
            Log = LogOptions.Parse(args.Values("log-opt")),
            StopSignal = args.Value("stop-signal"),
            StopTimeout = args.Value("stop-timeout") is { } timeout ? (int)ParseLong(timeout, "--stop-timeout") : null,
            Runtime = args.Value("runtime"),
        };
    }

    /// <summary>--pull missing (docker's default), always or never; a pull prints its progress on stderr as docker run does.</summary>
    private static Images.Service.ImageInfo ResolveImage(CliContext context, ParsedArguments args, string name, string command)
    {
        var policy = args.Value("pull") ?? "missing";
        if (policy is not ("missing" or "always" or "never"))
            throw new EngineException($"--pull {policy}: expected always, missing or never");
        var local = policy == "always" ? null : context.ImageStore.TryResolve(name);
        if (local is not null)
            return local;
        if (policy == "never")
            throw new EngineException($"{command}: no such image {name} here, and --pull never forbids pulling it");
        Console.Error.WriteLine($"Unable to find image '{name}' locally");
        using var view = new PullProgressView(Console.Error, !Console.IsErrorRedirected);
        var pulled = context.ImageStore.PullAsync(name, new PullOptions { TlsVerify = CliCommand.TlsVerify(args, command) }, view).GetAwaiter().GetResult();
        view.Finish();
        return pulled;
    }

    /// <summary>--env-file lines, then -e values; KEY alone copies the variable from skiff's environment (skipped if unset).</summary>
    private static List<string> Environment(ParsedArguments args)
    {
        var entries = new List<string>();
        foreach (var file in args.Values("env-file"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (IOException error)
            {
                throw new EngineException($"--env-file {file}: {error.Message}");
            }
            entries.AddRange(lines.Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')));
        }
        entries.AddRange(args.Values("env"));
        var result = new List<string>();
        foreach (var entry in entries)
        {
            if (entry.Contains('='))
                result.Add(entry);
            else if (System.Environment.GetEnvironmentVariable(entry) is { } value)
                result.Add($"{entry}={value}");
        }
        return result;
    }

    /// <summary>Docker's default seccomp profile for the container's capabilities, unless unconfined or a file is named.</summary>
    private static LinuxSeccomp? Seccomp(RunOptions options, IReadOnlyList<string> security)
    {
        string? choice = null;
        foreach (var option in security)
        {
            if (option.StartsWith("seccomp=", StringComparison.Ordinal) || option.StartsWith("seccomp:", StringComparison.Ordinal))
                choice = option[8..];
            else if (!SecurityLabels.Handles(option) && option is not ("no-new-privileges" or "no-new-privileges:true" or "no-new-privileges=true" or "no-new-privileges:false"))
                throw new EngineException($"--security-opt {option}: supported are no-new-privileges, seccomp=FILE|unconfined, apparmor=PROFILE|unconfined and label=user:|role:|type:|level:|disable");
        }
        if (options.Privileged || choice == "unconfined")
            return null;
        var capabilities = ContainerSpecBuilder.Capabilities(options, HostFacts.Current());
        if (choice is null)
            return DockerDefaultProfile.For(capabilities);
        byte[] json;
        try
        {
            json = File.ReadAllBytes(choice);
        }
        catch (IOException error)
        {
            throw new EngineException($"--security-opt seccomp={choice}: {error.Message}");
        }
        return DockerSeccompProfile.Parse(json, choice).Resolve(capabilities, DockerSeccompProfile.NativeArch, System.Environment.OSVersion.Version);
    }

    private static Dictionary<string, string> Pairs(IReadOnlyList<string> values, string flag)
    {
        var pairs = new Dictionary<string, string>();
        foreach (var value in values)
        {
            var eq = value.IndexOf('=');
            if (eq <= 0)
                throw new EngineException($"invalid {flag} \"{value}\": expected KEY=VALUE");
            pairs[value[..eq]] = value[(eq + 1)..];
        }
        return pairs;
    }

    private static decimal ParseDecimal(string text, string flag)
        => decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new EngineException($"invalid {flag} \"{text}\": expected a number such as 0.5");

    public static long ParseLong(string text, string flag)
        => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new EngineException($"invalid {flag} \"{text}\": expected a whole number");
}
