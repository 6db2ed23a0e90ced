using System.Text;
using System.Text.Json;
using Skiff.Cgroups.Systemd;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Runtime;
using static Skiff.Interop.Interop;

namespace Skiff.Cli.Runtime;

public static partial class Commands
{
    private static int WriteSpec(Context context, ParsedArguments args)
    {
        var bundle = args.Value("bundle") ?? Directory.GetCurrentDirectory();
        var path = Path.Combine(bundle, "config.json");
        if (File.Exists(path))
            throw new RuntimeException(ErrorKind.AlreadyExists, $"{path} already exists: remove it first");
        var spec = DefaultSpec.Default();
        if (args.Bool("rootless"))
            DefaultSpec.Rootless(spec, Libc.GetEuid(), Libc.GetEgid());
        OciJson.WriteSpec(path, spec);
        return 0;
    }

    private static int PrintFeatures(Context context, ParsedArguments args)
    {
        var features = new Features
        {
            OCIVersionMin = OciVersionMin,
            OCIVersionMax = OciVersionMax,
            Hooks = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            MountOptions = [.. LinuxNames.MountFlags.Keys, .. LinuxNames.Propagations.Keys, .. LinuxNames.RecursiveMountAttributes.Keys, "bind", "rbind", "tmpcopyup"],
            Linux = new LinuxFeatures
            {
                Namespaces = [.. LinuxNames.Namespaces.Keys],
                Capabilities = [.. Oci.Capabilities.Names.Take(ProcessCapabilities.LastCapability + 1)],
                Cgroup = new CgroupFeatures { V1 = true, V2 = true, Systemd = SystemdCgroupManager.IsUsable(), SystemdUser = false },
                Seccomp = new SeccompFeatures
                {
                    Enabled = true,
                    Actions = [.. SeccompNames.Actions],
                    Operators = [.. SeccompNames.Operators],
                    Archs = [.. SeccompNames.Architectures],
                    KnownFlags = [.. SeccompNames.Flags],
                    SupportedFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                },
                Apparmor = new ApparmorFeatures { Enabled = SecurityModules.Host.AppArmorEnabled },
                Selinux = new SelinuxFeatures { Enabled = SecurityModules.Host.SelinuxEnabled },
            },
            Annotations = new Dictionary<string, string> { ["org.opencontainers.runtime-spec.features.skiff.version"] = Program.Version },
        };
        Console.Out.WriteLine(OciJson.SerializeFeatures(features));
        return 0;
    }

    /// <summary>ps: the container's pids as JSON, or the host's `ps` output (default `-ef`) limited to them, as runc does.</summary>
    private static int Ps(Context context, ParsedArguments args)
    {
        var pids = context.Runtime.Pids(args.Positionals[0]);
        var format = args.Value("format") ?? "table";
        if (format == "json")
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(pids.ToList(), CliJsonContext.Default.ListInt32));
            return 0;
        }
        if (format != "table")
            throw new UsageException($"ps: --format must be table or json, not \"{format}\"");
        var psArgs = args.Positionals.Count > 1 ? args.Positionals.Skip(1).ToList() : ["-ef"];
        var lines = RunPs(psArgs);
        if (lines.Count == 0)
            return 0;
        int pidColumn = Array.IndexOf(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries), "PID");
        if (pidColumn < 0)
            throw new RuntimeException(ErrorKind.InvalidArgument, "ps: the output of ps has no PID column: include it in the ps options");
        var wanted = pids.ToHashSet();
        var output = new StringBuilder(lines[0]).Append('\n');
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > pidColumn && int.TryParse(fields[pidColumn], out var pid) && wanted.Contains(pid))
                output.Append(line).Append('\n');
        }
        Console.Out.Write(output.ToString());
        return 0;
    }

    private static unsafe List<string> RunPs(List<string> psArgs)
    {
        var (read, write) = Libc.Pipe();
        int pid;
        using (write)
        {
            try
            {
                pid = Spawn.Start("/bin/ps", ["ps", .. psArgs], null, [(write.Fd, 1)]);
            }
            catch (SyscallException e)
            {
                read.Dispose();
                throw new RuntimeException(e.Kind, $"ps: cannot run /bin/ps: {SyscallException.Describe(e.Errno)}", e);
            }
        }
        using var pidfd = Pidfd.Open(pid);
        var bytes = new MemoryStream();
        using (read)
        {
            var buffer = new byte[16384];
            fixed (byte* p = buffer)
            {
                nint n;
                while ((n = Libc.Read(read.Fd, p, buffer.Length)) > 0 || (n < 0 && Errno.Last == Errno.EINTR))
                    if (n > 0)
                        bytes.Write(buffer, 0, (int)n);
            }
        }
        int status = Pidfd.WaitExit(pidfd);
        if (status != 0)
            throw new RuntimeException(ErrorKind.Internal, $"ps {string.Join(' ', psArgs)} failed with exit status {status}");
        return [.. Encoding.UTF8.GetString(bytes.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }
}
