namespace Skiff.Build.Dockerfile;

/// <summary>
/// What a build is asked for: <see cref="BuildArgs"/> (<c>--build-arg</c>), the <see cref="Target"/> stage (null: the
/// last), and the platforms (<c>os/arch[/variant]</c>) the predefined TARGET* and BUILD* args describe.
/// </summary>
public sealed record BuildPlanOptions
{
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();
    public string? Target { get; init; }
    public required string TargetPlatform { get; init; }
    public required string BuildPlatform { get; init; }
}

/// <summary>A stage's reference to another stage, and the line that makes it (FROM, COPY --from, RUN --mount from=).</summary>
public sealed record StageDependency(int Stage, int Line);

/// <summary>
/// A stage the build needs: its base (<see cref="BaseImage"/> after substitution, or <see cref="BaseStage"/> when it is
/// built FROM an earlier stage), its <see cref="Platform"/> (<c>FROM --platform</c> after substitution, null when not
/// given), the stages it needs first and the images <c>COPY --from</c> or <c>--mount from=</c> name that are not stages.
/// </summary>
public sealed record PlannedStage(DockerfileStage Stage, string BaseImage, int? BaseStage, string? Platform,
    IReadOnlyList<StageDependency> Dependencies, IReadOnlyList<string> ExternalImages)
{
    public int Index => Stage.Index;
}

/// <summary>
/// The order of a build: the stages the target needs (and no others), each after the stages it depends on, grouped in
/// <see cref="Waves"/> whose stages are independent of one another (so they can be built in parallel); the values of
/// the ARGs before the first FROM; the <c>--build-arg</c>s that no needed stage declares (docker's warning). Substitution
/// here (FROM lines, <c>--from</c>, mount options) sees the ARGs and ENVs the Dockerfile declares, not a base image's
/// environment, which only the build knows.
/// </summary>
public sealed class BuildPlan
{
    /// <summary>Args every build has without an ARG line (docker's predefined proxy args), passed to RUN but never warned about.</summary>
    public static IReadOnlyList<string> ProxyArgNames { get; } =
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

    private readonly IReadOnlyDictionary<string, string> _buildArgs;
    private PlannedStage?[] _planned = [];
    private IReadOnlyDictionary<string, string>?[] _environments = [];
    private HashSet<string> _consumed = [];

    private BuildPlan(DockerfileDocument document, IReadOnlyDictionary<string, string> buildArgs, IReadOnlyDictionary<string, string> globalArgs,
        IReadOnlyDictionary<string, string> platformArgs)
    {
        Document = document;
        _buildArgs = buildArgs;
        GlobalArgs = globalArgs;
        PlatformArgs = platformArgs;
    }

    public DockerfileDocument Document { get; }

    /// <summary>The needed stages, each after those it depends on; the target is last.</summary>
    public IReadOnlyList<PlannedStage> Stages { get; private set; } = [];

    public PlannedStage Target => Stages[^1];

    /// <summary>The needed stages by depth: a stage's dependencies are all in earlier waves.</summary>
    public IReadOnlyList<IReadOnlyList<PlannedStage>> Waves { get; private set; } = [];

    /// <summary>The ARGs before the first FROM with their values (build arg, else default), and the predefined platform args.</summary>
    public IReadOnlyDictionary<string, string> GlobalArgs { get; }

    /// <summary>TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT, BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT.</summary>
    public IReadOnlyDictionary<string, string> PlatformArgs { get; }

    /// <summary>The <c>--build-arg</c> names that no needed stage declares with ARG (docker warns: "were not consumed").</summary>
    public IReadOnlyList<string> UnusedBuildArgs { get; private set; } = [];

    /// <summary>The proxy args given as build args: the environment of RUN steps, kept out of the cache key and history as docker's.</summary>
    public IReadOnlyDictionary<string, string> ProxyArgs
        => _buildArgs.Where(pair => ProxyArgNames.Contains(pair.Key)).ToDictionary(pair => pair.Key, pair => pair.Value);

    /// <summary>
    /// The value an ARG line inside a stage gives <paramref name="argument"/>: the build arg, else its default expanded in
    /// <paramref name="scope"/> (the stage's args and env so far), else the value of the global ARG (or predefined platform
    /// arg) of that name; null when it stays unset.
    /// </summary>
    public string? ResolveArg(ArgDeclaration argument, IReadOnlyDictionary<string, string> scope, ICollection<string>? used = null)
    {
        if (_buildArgs.TryGetValue(argument.Name, out string? given))
            return given;
        if (argument.Default is { } written)
            return ShellWordExpander.Expand(written, scope, Document.Escape, used);
        return GlobalArgs.TryGetValue(argument.Name, out string? global) ? global : null;
    }

    public static BuildPlan Create(DockerfileDocument document, BuildPlanOptions options)
    {
        var platformArgs = PlatformValues("TARGET", options.TargetPlatform).Concat(PlatformValues("BUILD", options.BuildPlatform))
            .ToDictionary(pair => pair.Key, pair => pair.Value);
        var globals = new Dictionary<string, string>(platformArgs);
        foreach (var line in document.GlobalArgs)
            foreach (var argument in line.Args)
            {
                string? value = options.BuildArgs.TryGetValue(argument.Name, out string? given) ? given
                    : argument.Default is { } written ? At(document, line, () => ShellWordExpander.Expand(written, globals, document.Escape))
                    : null;
                if (value is not null)
                    globals[argument.Name] = value;
            }
        var plan = new BuildPlan(document, options.BuildArgs, globals, platformArgs);
        plan.Order(options.Target);
        return plan;
    }

    private static IEnumerable<KeyValuePair<string, string>> PlatformValues(string prefix, string platform)
    {
        string[] parts = platform.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(part => part.Length == 0))
            throw new BuildException($"the platform \"{platform}\" is not of the form os/arch[/variant], such as linux/amd64");
        yield return new(prefix + "PLATFORM", platform);
        yield return new(prefix + "OS", parts[0]);
        yield return new(prefix + "ARCH", parts[1]);
        yield return new(prefix + "VARIANT", parts.Length == 3 ? parts[2] : "");
    }

    private static T At<T>(DockerfileDocument document, Instruction instruction, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (BuildException error) when (!error.Message.StartsWith(document.FileName + ":", StringComparison.Ordinal))
        {
            string message = error.Message.StartsWith(instruction.Keyword + " ", StringComparison.Ordinal) ? error.Message : $"{instruction.Keyword}: {error.Message}";
            throw document.Error(instruction, message);
        }
    }

    private void Order(string? targetName)
    {
        var stages = Document.Stages;
        int target = stages.Count - 1;
        if (targetName is not null)
        {
            string wanted = targetName.ToLowerInvariant();
            var found = stages.FirstOrDefault(stage => stage.Name == wanted);
            if (found is null)
            {
                string names = stages.Any(stage => stage.Name is not null)
                    ? $"the stages are named {string.Join(", ", stages.Where(stage => stage.Name is not null).Select(stage => stage.Name))}"
                    : "no stage has a name (FROM IMAGE AS NAME)";
                throw new BuildException($"{Document.FileName}: there is no build stage named \"{targetName}\" for --target: {names}");
            }
            target = found.Index;
        }

        // Every stage is planned (its FROM expanded, its references found) only when reached from the target, so an
        // error in a stage the target does not need does not stop the build, as docker's.
        _planned = new PlannedStage?[stages.Count];
        _environments = new IReadOnlyDictionary<string, string>?[stages.Count];
        _consumed = new HashSet<string>(ProxyArgNames.Concat(PlatformArgs.Keys));
        var state = new int[stages.Count];
        var order = new List<PlannedStage>();
        var depth = new int[stages.Count];

        void Visit(int index, List<int> path)
        {
            if (state[index] == 2)
                return;
            var stage = Planned(index);
            state[index] = 1;
            path.Add(index);
            foreach (var dependency in stage.Dependencies)
            {
                if (state[dependency.Stage] == 1)
                {
                    var cycle = path.Skip(path.IndexOf(dependency.Stage)).Append(dependency.Stage).Select(Describe);
                    throw new BuildException($"{Document.FileName}:{dependency.Line}: the stages depend on each other in a cycle ({string.Join(" -> ", cycle)}): a stage cannot use itself or a stage that uses it");
                }
                Visit(dependency.Stage, path);
                depth[index] = Math.Max(depth[index], depth[dependency.Stage] + 1);
            }
            path.RemoveAt(path.Count - 1);
            state[index] = 2;
            order.Add(stage);
        }

        Visit(target, []);
        Stages = order;
        Waves = [.. order.GroupBy(stage => depth[stage.Index]).OrderBy(group => group.Key).Select(group => (IReadOnlyList<PlannedStage>)[.. group])];
        UnusedBuildArgs = [.. _buildArgs.Keys.Where(name => !_consumed.Contains(name)).Order(StringComparer.Ordinal)];
    }

    private string Describe(int index)
        => Document.Stages[index].Name is { } name ? $"\"{name}\"" : $"stage {index}";

    private PlannedStage Planned(int index) => _planned[index] ??= Plan(Document.Stages[index]);

    private PlannedStage Plan(DockerfileStage stage)
    {
        var from = stage.From;
        var fromUsed = new HashSet<string>();
        string image = At(Document, from, () => ShellWordExpander.Expand(from.Image, GlobalArgs, Document.Escape, fromUsed));
        string? platform = from.Platform is null ? null : At(Document, from, () => ShellWordExpander.Expand(from.Platform, GlobalArgs, Document.Escape, fromUsed));
        _consumed.UnionWith(fromUsed.Where(GlobalArgs.ContainsKey));
        if (image.Length == 0)
            throw Document.Error(from, $"FROM {from.Image} names no image after substitution: give the ARG it uses a value (--build-arg or a default)");

        var dependencies = new List<StageDependency>();
        var external = new List<string>();
        int? baseStage = Document.Stages.Take(stage.Index).LastOrDefault(earlier => earlier.Name == image.ToLowerInvariant())?.Index;
        var env = new Dictionary<string, string>();
        if (baseStage is { } parent)
        {
            dependencies.Add(new StageDependency(parent, from.StartLine));
            // A stage built FROM an earlier one starts with its ENVs (a base image's env is unknown here). FROM names
            // only earlier stages, so this recursion ends.
            Planned(parent);
            env = new Dictionary<string, string>(_environments[parent]!);
        }
        var args = new Dictionary<string, string>();
        Dictionary<string, string> Scope()
        {
            var scope = new Dictionary<string, string>(args);
            foreach (var (key, value) in env)
                scope[key] = value;
            return scope;
        }

        void Reference(Instruction instruction, string written)
        {
            string name = At(Document, instruction, () => ShellWordExpander.Expand(written, Scope(), Document.Escape));
            string lower = name.ToLowerInvariant();
            if (Document.Stages.FirstOrDefault(candidate => candidate.Name == lower) is { } named)
                dependencies.Add(new StageDependency(named.Index, instruction.StartLine));
            else if (name.Length > 0 && name.All(char.IsAsciiDigit))
            {
                if (!int.TryParse(name, out int index) || index >= Document.Stages.Count)
                    throw Document.Error(instruction, $"{instruction.Keyword} --from={name} names no stage: the stages are numbered 0 to {Document.Stages.Count - 1}");
                dependencies.Add(new StageDependency(index, instruction.StartLine));
            }
            else if (name.Length == 0)
                throw Document.Error(instruction, $"{instruction.Keyword} --from={written} is empty after substitution: name a stage or an image");
            else if (!external.Contains(name))
                external.Add(name);
        }

        foreach (var instruction in stage.Instructions)
        {
            switch (instruction)
            {
                case ArgInstruction line:
                    foreach (var argument in line.Args)
                    {
                        _consumed.Add(argument.Name);
                        string? value = At(Document, line, () => ResolveArg(argument, Scope()));
                        if (value is not null)
                            args[argument.Name] = value;
                    }
                    break;
                case EnvInstruction line:
                    foreach (var variable in line.Variables)
                    {
                        var scope = Scope();
                        string key = At(Document, line, () => ShellWordExpander.Expand(variable.Key, scope, Document.Escape));
                        env[key] = At(Document, line, () => ShellWordExpander.Expand(variable.Value, scope, Document.Escape));
                    }
                    break;
                case CopyInstruction { From: { } source } copy:
                    Reference(copy, source);
                    break;
                case RunInstruction run:
                    foreach (string mount in run.Mounts)
                    {
                        var scope = Scope();
                        var parsed = At(Document, run, () => RunMount.Parse(mount, value => ShellWordExpander.Expand(value, scope, Document.Escape)));
                        if (parsed.From is { } mountFrom)
                            Reference(run, mountFrom);
                    }
                    break;
            }
        }
        _environments[stage.Index] = env;
        return new PlannedStage(stage, image, baseStage, platform, dependencies, external);
    }
}
