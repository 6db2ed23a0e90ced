using System.Diagnostics;
using Skiff.Build;
using Skiff.Build.Context;
using Skiff.Build.Execution;
using Skiff.Engine;
using Skiff.Engine.Specs;
using Skiff.Interop;

namespace Skiff.Cli.Commands;

/// <summary>`skiff build`: docker build's flags, read into a <see cref="BuildRequest"/> for the builder.</summary>
internal static class BuildCommand
{
    public static readonly CliCommand Definition = new(
        "build", "PATH|-", "Build an image from a Dockerfile and a context (a directory, or a tar stream on stdin).",
        [
            new("tag", 't', TakesValue: true, Repeatable: true, Help: "name the image REPOSITORY[:TAG] (repeatable)"),
            new("file", 'f', TakesValue: true, Help: "the Dockerfile (default PATH/Dockerfile; - reads it from stdin)"),
            new("build-arg", TakesValue: true, Repeatable: true, Help: "NAME=VALUE for an ARG (NAME alone takes it from the environment)"),
            new("target", TakesValue: true, Help: "build up to this stage"),
            new("label", TakesValue: true, Repeatable: true, Help: "KEY=VALUE set on the image"),
            new("no-cache", Help: "run every step again"),
            new("no-cache-filter", TakesValue: true, Repeatable: true, Help: "run these stages' steps again (names or indexes, comma-separated)"),
            new("pull", Help: "pull base images even when they are here"),
            new("network", TakesValue: true, Help: "network mode of RUN steps: default, none or host"),
            new("quiet", 'q', Help: "print only the image ID"),
            new("iidfile", TakesValue: true, Help: "write the image ID to this file"),
            new("add-host", TakesValue: true, Repeatable: true, Help: "HOST:IP line added to RUN steps' /etc/hosts"),
            new("ulimit", TakesValue: true, Repeatable: true, Help: "NAME=SOFT[:HARD] for RUN steps"),
            new("shm-size", TakesValue: true, Help: "size of RUN steps' /dev/shm"),
            new("secret", TakesValue: true, Repeatable: true, Help: "id=ID,src=FILE or id=ID,env=VAR: a secret for RUN --mount=type=secret"),
            new("output", 'o', TakesValue: true, Repeatable: true, Help: "type=docker|oci|local|tar,dest=PATH (PATH alone: a directory; -: a tar on stdout)"),
            new("platform", TakesValue: true, Help: "the image's platform: only this host's"),
            new("progress", TakesValue: true, Help: "auto (tty on a terminal, else plain), plain or tty"),
            new("cache-from", TakesValue: true, Repeatable: true, Help: "an image whose layers steps may be taken from (pulled if missing; repeatable)"),
            new("cache-to", TakesValue: true, Help: "type=inline: write the steps' cache keys into the image, for --cache-from"),
            new("squash", Help: "squash the layers the build adds on top of the final stage's base image into one"),
            CliCommand.Help,
        ],
        Run, MinPositionals: 1, MaxPositionals: 1, Aliases: ["image build", "builder build", "buildx build"]);

    private static int Run(CliContext context, ParsedArguments args)
    {
        var clock = Stopwatch.StartNew();
        string mode = args.Value("progress") ?? "auto";
        if (mode is not ("auto" or "plain" or "tty"))
            throw new UsageException($"build: --progress takes auto, plain or tty, not \"{mode}\"", badFlag: true);
        bool stderrIsTerminal = Skiff.Interop.Interop.Terminal.WindowSize(2) is not null;
        if (mode == "tty" && !stderrIsTerminal)
            throw new CliFailure(ErrorKind.InvalidArgument, "build: --progress=tty needs a terminal on stderr, and stderr is not one: use --progress=plain (or auto).");
        var platform = CliCommand.Platform(args, "build");
        string path = args.Positionals[0];
        string? file = args.Value("file");
        if (path == "-" && file == "-")
            throw new CliFailure(ErrorKind.InvalidArgument, "build: the context and the Dockerfile cannot both come from stdin.");

        var store = new BuildStore(context.EngineOptions);
        string dockerfileText;
        string dockerfileName;
        using var buildContext = path == "-"
            ? BuildContext.FromTar(Console.OpenStandardInput(), store.Contexts, file ?? "Dockerfile")
            : BuildContext.FromDirectory(path, file is null or "-" ? Path.Combine(path, "Dockerfile") : file);
        if (file == "-")
            (dockerfileText, dockerfileName) = (Console.In.ReadToEnd(), "Dockerfile");
        else
        {
            string dockerfilePath = file is null ? Path.Combine(buildContext.Directory, "Dockerfile")
                : path == "-" ? Path.Combine(buildContext.Directory, file) : file;
            dockerfileName = Path.GetFileName(dockerfilePath);
            try
            {
                dockerfileText = File.ReadAllText(dockerfilePath);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new CliFailure(ErrorKind.NotFound, $"build: cannot read the Dockerfile {dockerfilePath}: {SystemErrors.Reason(error)}");
            }
        }

        var request = new BuildRequest
        {
            Context = buildContext,
            Dockerfile = dockerfileText,
            DockerfileName = dockerfileName,
            Platform = platform,
            Tags = args.Values("tag"),
            BuildArgs = BuildArgs(args.Values("build-arg")),
            Target = args.Value("target"),
            Labels = args.Values("label").Select(label => label.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
            NoCache = args.Bool("no-cache"),
            NoCacheFilter = [.. args.Values("no-cache-filter").SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(s => s.ToLowerInvariant())],
            Pull = args.Bool("pull"),
            Network = args.Value("network") ?? "default",
            ExtraHosts = args.Values("add-host"),
            Ulimits = [.. args.Values("ulimit").Select(UlimitRequest.Parse)],
            ShmSize = args.Value("shm-size") is { } shm ? ByteSize.Parse(shm, "--shm-size") : null,
            Secrets = Secrets(args.Values("secret")),
            Squash = args.Bool("squash"),
            CacheFrom = [.. args.Values("cache-from").Select(CacheFrom)],
            InlineCache = args.Value("cache-to") is { } cacheTo && CacheToInline(cacheTo),
        };
        // Parsed before the build: a bad --output wastes no build.
        var outputs = args.Values("output").Select(BuildOutput.Parse).ToList();
        if (outputs.Count(o => o.Destination == "-") > 1)
            throw new CliFailure(ErrorKind.InvalidArgument, "build: only one --output can go to stdout.");
        bool quiet = args.Bool("quiet");
        using var tty = !quiet && mode != "plain" && stderrIsTerminal
            ? new TtyBuildProgress(Console.Error, () => clock.Elapsed, () => Skiff.Interop.Interop.Terminal.WindowSize(2) is var (rows, columns) ? (rows, columns) : (24, 80))
            : null;
        IBuildProgress progress = tty ?? (IBuildProgress)new PlainBuildProgress(Console.Error, quiet);
        using var cache = store.OpenCache();
        // A tar context has new paths and inodes every time: nothing a stat cache could match.
        var statCache = path == "-" ? null : store.OpenStatCache();
        var builder = new Builder(context.Engine, cache, statCache, progress);
        BuildResult result;
        tty?.Start();
        try
        {
            result = builder.BuildAsync(request).GetAwaiter().GetResult();
        }
        catch
        {
            tty?.Finish(succeeded: false);
            throw;
        }
        tty?.Finish(succeeded: true);
        foreach (var output in outputs)
            output.Write(context.Engine, result.Image.Id, request.Tags, () => Console.OpenStandardOutput());
        if (args.Value("iidfile") is { } iidfile)
            File.WriteAllText(iidfile, result.Image.Id);
        // An archive on stdout owns it: the ID goes to stderr then.
        if (quiet)
            (outputs.Any(o => o.Destination == "-") ? Console.Error : context.Out).WriteLine(result.Image.Id);
        else
        {
            foreach (var tag in request.Tags)
                Console.Error.WriteLine($"naming to {Skiff.Images.Service.ImageService.NormalizeName(tag)}");
            Console.Error.WriteLine($"built {result.Image.Id} in {clock.Elapsed.TotalSeconds:0.000}s ({result.CachedSteps} of {result.Steps} steps cached)");
        }
        return 0;
    }

    /// <summary>--cache-from NAME, or buildx's type=registry,ref=NAME (an image, here in the store or pulled).</summary>
    private static string CacheFrom(string value)
    {
        if (!value.Contains('='))
            return value;
        var fields = value.Split(',').Select(f => f.Split('=', 2)).ToDictionary(f => f[0].Trim().ToLowerInvariant(), f => f.Length > 1 ? f[1] : "");
        if (fields.GetValueOrDefault("type", "registry") != "registry" || !fields.TryGetValue("ref", out var reference) || reference.Length == 0)
            throw new UsageException($"build: --cache-from \"{value}\": skiff takes an image, as NAME or type=registry,ref=NAME", badFlag: true);
        return reference;
    }

    /// <summary>--cache-to: only type=inline (the metadata in the image itself); true for it.</summary>
    private static bool CacheToInline(string value)
        => value.Split(',').Select(f => f.Trim()).Contains("type=inline")
            ? true
            : throw new UsageException($"build: --cache-to \"{value}\": skiff writes only type=inline (the cache keys in the built image)", badFlag: true);

    /// <summary>
    /// docker's --secret: id=ID with src=FILE (or source=), or env=VAR; type=file|env may say which; id alone takes the
    /// environment variable ID, as docker's CLI. A file that does not exist is an error now, not at the step.
    /// </summary>
    private static Dictionary<string, BuildSecret> Secrets(IReadOnlyList<string> values)
    {
        var secrets = new Dictionary<string, BuildSecret>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var fields = value.Split(',').Select(f => f.Split('=', 2)).ToDictionary(f => f[0].Trim().ToLowerInvariant(), f => f.Length > 1 ? f[1] : "");
            if (fields.Keys.Except(["id", "src", "source", "env", "type"]).FirstOrDefault() is { } unknown)
                throw new UsageException($"build: --secret \"{value}\": unknown field {unknown} (use id, src, env, type)", badFlag: true);
            if (!fields.TryGetValue("id", out var id) || id.Length == 0)
                throw new UsageException($"build: --secret \"{value}\" has no id=", badFlag: true);
            string? file = fields.GetValueOrDefault("src") ?? fields.GetValueOrDefault("source");
            string? variable = fields.GetValueOrDefault("env");
            if (fields.GetValueOrDefault("type") is "env" && file is not null)
                (variable, file) = (file, null);
            if (file is null && variable is null)
                variable = id;
            if (file is not null)
            {
                if (!File.Exists(file))
                    throw new CliFailure(ErrorKind.NotFound, $"build: the secret file {file} (--secret id={id}) does not exist.");
                secrets[id] = new BuildSecret(file, null);
            }
            else
                secrets[id] = new BuildSecret(null, System.Text.Encoding.UTF8.GetBytes(Environment.GetEnvironmentVariable(variable!)
                    ?? throw new CliFailure(ErrorKind.NotFound, $"build: the environment variable {variable} of --secret id={id} is not set.")));
        }
        return secrets;
    }

    /// <summary>--build-arg NAME=VALUE, or NAME alone for the value of the environment variable NAME (skipped when unset), as docker.</summary>
    private static Dictionary<string, string> BuildArgs(IReadOnlyList<string> values)
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            int equals = value.IndexOf('=');
            if (equals == 0)
                throw new UsageException($"build: --build-arg \"{value}\" has no name", badFlag: true);
            if (equals > 0)
                args[value[..equals]] = value[(equals + 1)..];
            else if (Environment.GetEnvironmentVariable(value) is { } fromEnvironment)
                args[value] = fromEnvironment;
        }
        return args;
    }
}
