using Skiff.Images.Registry;

namespace Skiff.Cli.Commands;

internal static class LoginCommand
{
    public static readonly CliCommand Definition = new(
        "login", "REGISTRY", "Check credentials against a registry and store them for pulls and pushes.",
        [
            new("username", 'u', TakesValue: true, Help: "user name"),
            new("password", 'p', TakesValue: true, Help: "password (visible in the process list: prefer --password-stdin)"),
            new("password-stdin", Help: "read the password from standard input"),
            new("tls-verify", TakesValue: true, Help: "false: reach the registry over plain HTTP"),
            new("authfile", TakesValue: true, Help: "credentials file to write (default: podman's auth.json)"),
            CliCommand.Help,
        ],
        Run, MinPositionals: 1, MaxPositionals: 1);

    private static int Run(CliContext context, ParsedArguments args)
    {
        string registry = args.Positionals[0];
        string user = args.Value("username") ?? Prompt("Username: ");
        string? password = args.Value("password");
        if (args.Bool("password-stdin"))
        {
            if (password is not null)
                throw new UsageException("login: give --password or --password-stdin, not both");
            password = Console.In.ReadToEnd().TrimEnd('\r', '\n');
        }
        password ??= Prompt("Password: ");
        if (user.Length == 0 || password.Length == 0)
            throw new UsageException("login: a user name and a password are needed");
        var store = new CredentialStore(args.Value("authfile"));
        var options = new RegistryOptions { InsecureRegistries = CliCommand.TlsVerify(args, "login") ? [] : [registry] };
        store.LoginAsync(registry, new RegistryCredential(user, password), options).GetAwaiter().GetResult();
        context.Out.WriteLine("Login Succeeded!");
        return 0;
    }

    /// <summary>Asks on the terminal; without one there is nobody to ask, so the flag is required.</summary>
    private static string Prompt(string question)
    {
        if (Console.IsInputRedirected)
            throw new UsageException($"login: {question.TrimEnd(' ', ':').ToLowerInvariant()} not given (use --username and --password-stdin)");
        Console.Error.Write(question);
        return Console.ReadLine() ?? "";
    }
}
