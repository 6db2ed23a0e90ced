using System.Text.Json;
using Skiff.Oci;
using Skiff.Runtime;

namespace Skiff.Cli.Runtime;

public static partial class Commands
{
    // A property, not a field: static field initialisers across partial files run in no defined order.
    private static Flag[] ExecFlags =>
    [
        new("process", 'p', TakesValue: true, Help: "process.json describing the process (instead of COMMAND)"),
        new("tty", 't', Help: "allocate a pseudo-terminal (needs --console-socket)"),
        new("console-socket", TakesValue: true, Help: "unix socket that receives the pty master"),
        new("detach", 'd', Help: "do not wait for the process"),
        new("pid-file", TakesValue: true, Help: "write the process's pid here"),
        new("env", 'e', TakesValue: true, Repeatable: true, Help: "add KEY=VALUE to the environment"),
        new("cwd", TakesValue: true, Help: "working directory inside the container"),
        new("user", 'u', TakesValue: true, Help: "uid[:gid]"),
        new("additional-gids", 'g', TakesValue: true, Repeatable: true, Help: "extra group ids"),
        new("cap", 'c', TakesValue: true, Repeatable: true, Help: "add a capability"),
        new("no-new-privs", Help: "set no_new_privs"),
        new("preserve-fds", TakesValue: true, Help: "pass N more fds (3..3+N-1) to the process"),
        new("apparmor", TakesValue: true, Help: "AppArmor profile for the process (an error where AppArmor is not enabled)"),
        new("process-label", TakesValue: true, Help: "SELinux label for the process (an error where SELinux is not enabled)"),
        new("ignore-paused", Help: "accepted for runc compatibility"),
        Help,
    ];

    private static int Exec(Context context, ParsedArguments args)
    {
        var id = args.Positionals[0];
        var process = ExecProcess(context, id, args);
        using var signals = args.Bool("detach") ? null : new SignalForwarding();
        var pidfd = context.Runtime.Exec(id, new ExecOptions
        {
            Process = process,
            ConsoleSocket = args.Value("console-socket"),
            PidFile = args.Value("pid-file"),
            PreserveFds = args.Int("preserve-fds", 0),
        });
        using (pidfd)
        {
            if (args.Bool("detach"))
                return 0;
            return signals!.ForwardUntilExit(pidfd);
        }
    }

    /// <summary>
    /// As runc: --process replaces everything; otherwise the container's own process is the base
    /// (user, env, capabilities, rlimits...) with the command and flags laid over it.
    /// </summary>
    private static Process ExecProcess(Context context, string id, ParsedArguments args)
    {
        if (args.Value("process") is { } processFile)
        {
            if (args.Positionals.Count > 1)
                throw new UsageException("exec: give either --process or a command, not both");
            return OciJson.ReadProcess(processFile);
        }
        if (args.Positionals.Count < 2)
            throw new UsageException("exec: no command given");
        var spec = context.Runtime.Store.LoadSpec(id);
        var basis = spec.Process ?? new Process();
        var process = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(basis, OciJsonContext.Default.Process), OciJsonContext.Default.Process)!;
        process.Args = [.. args.Positionals.Skip(1)];
        process.Terminal = args.Bool("tty");
        process.Env = [.. process.Env ?? [], .. args.Values("env")];
        if (args.Value("cwd") is { } cwd)
            process.Cwd = cwd;
        if (args.Has("no-new-privs"))
            process.NoNewPrivileges = args.Bool("no-new-privs");
        if (args.Value("user") is { } user)
        {
            var parts = user.Split(':', 2);
            if (!uint.TryParse(parts[0], out var uid) || (parts.Length == 2 && !uint.TryParse(parts[1], out _)))
                throw new UsageException($"exec: --user must be uid[:gid] with numbers, not \"{user}\"");
            process.User = new User { UID = uid, GID = parts.Length == 2 ? uint.Parse(parts[1]) : 0 };
        }
        foreach (var gid in args.Values("additional-gids"))
        {
            if (!uint.TryParse(gid, out var number))
                throw new UsageException($"exec: --additional-gids must be numbers, not \"{gid}\"");
            process.User.AdditionalGids = [.. process.User.AdditionalGids ?? [], number];
        }
        var caps = args.Values("cap");
        if (caps.Count > 0)
        {
            process.Capabilities ??= new LinuxCapabilities();
            var c = process.Capabilities;
            c.Bounding = [.. c.Bounding ?? [], .. caps];
            c.Effective = [.. c.Effective ?? [], .. caps];
            c.Permitted = [.. c.Permitted ?? [], .. caps];
            c.Ambient = [.. c.Ambient ?? [], .. caps];
            c.Inheritable = [.. c.Inheritable ?? [], .. caps];
        }
        if (args.Value("apparmor") is { } profile)
            process.ApparmorProfile = profile;
        if (args.Value("process-label") is { } label)
            process.SelinuxLabel = label;
        return process;
    }
}
