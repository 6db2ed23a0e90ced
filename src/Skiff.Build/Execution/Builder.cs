using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skiff.Build.Context;
using Skiff.Build.Dockerfile;
using Skiff.Engine;
using Skiff.Engine.Specs;
using Skiff.Images.Archive;
using Skiff.Images.Service;
using Skiff.Oci.Image;

namespace Skiff.Build.Execution;

/// <summary>What `skiff build` asks for: the context, the Dockerfile, and docker build's flags.</summary>
public sealed record BuildRequest
{
    public required BuildContext Context { get; init; }
    /// <summary>The Dockerfile's text, and its name for errors ("Dockerfile:12: ...").</summary>
    public required string Dockerfile { get; init; }
    public string DockerfileName { get; init; } = "Dockerfile";
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();
    public string? Target { get; init; }
    /// <summary>--label: set on the final image.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public bool NoCache { get; init; }
    /// <summary>--no-cache-filter: stages (by name or index) whose steps run again, the others' coming from the cache.</summary>
    public IReadOnlyList<string> NoCacheFilter { get; init; } = [];
    /// <summary>--pull: base images are pulled even when present.</summary>
    public bool Pull { get; init; }
    /// <summary>--network: the default network mode of RUN steps (default, none, host).</summary>
    public string Network { get; init; } = "default";
    public IReadOnlyList<string> ExtraHosts { get; init; } = [];
    public IReadOnlyList<UlimitRequest> Ulimits { get; init; } = [];
    public long? ShmSize { get; init; }
    /// <summary>--secret values by id, for RUN --mount=type=secret.</summary>
    public IReadOnlyDictionary<string, BuildSecret> Secrets { get; init; } = new Dictionary<string, BuildSecret>();
    /// <summary>--squash: the layers the build added on top of the final stage's base image become one (docker's).</summary>
    public bool Squash { get; init; }
    /// <summary>--cache-from: images (in the store, else pulled) whose layers steps may be taken from (see <see cref="CacheSource"/>).</summary>
    public IReadOnlyList<string> CacheFrom { get; init; } = [];
    /// <summary>--cache-to type=inline: the final image carries its steps' keys (<see cref="InlineCache"/>); so does BUILDKIT_INLINE_CACHE=1 among the build args.</summary>
    public bool InlineCache { get; init; }
    /// <summary>--platform: the image's platform; only this host's can be built (no emulation).</summary>
    public Skiff.Oci.Image.Platform? Platform { get; init; }
}

/// <summary>The built image and what the build reused.</summary>
public sealed record BuildResult(ImageInfo Image, int Steps, int CachedSteps, IReadOnlyList<string> Warnings);

/// <summary>
/// Builds a Dockerfile into an image of the store: the stages the target needs, in order, each instruction a step
/// (<see cref="BuildSteps"/>) whose result is looked up in the <see cref="BuildCache"/> first by its key (the parent
/// image, the instruction after substitution, the build args a RUN sees, the content digest of what COPY and ADD
/// read), so an unchanged step runs nothing. The final image is tagged with every requested name. The stat cache
/// (null for a context with no stable paths, a tar stream) lets a rebuild hash the context without reading files.
/// </summary>
public sealed class Builder(EngineHost host, BuildCache cache, StatCache? statCache, IBuildProgress progress)
{
    private static readonly List<string> DefaultShell = ["/bin/sh", "-c"];
    private readonly BuildSteps _steps = new(host);

    public async Task<BuildResult> BuildAsync(BuildRequest request, CancellationToken cancel = default)
    {
        var hostPlatform = Skiff.Oci.Image.Platform.Host;
        if (request.Platform is { } wanted && !wanted.Matches(hostPlatform))
            throw new BuildException(ErrorKind.InvalidArgument, $"the platform {wanted} is not this host's ({hostPlatform}), and skiff cannot build for another one: build on a {wanted} machine, or leave --platform out.");
        var document = DockerfileParser.Parse(request.Dockerfile, request.DockerfileName);
        string platform = hostPlatform.ToString();
        var plan = BuildPlan.Create(document, new BuildPlanOptions
        {
            BuildArgs = request.BuildArgs,
            Target = request.Target,
            TargetPlatform = platform,
            BuildPlatform = platform,
        });
        var warnings = new List<string>(document.Warnings);
        // BuildKit's way of asking for the inline cache is a build arg that no Dockerfile declares.
        bool inlineCache = request.InlineCache || request.BuildArgs.GetValueOrDefault(InlineCacheArg) is "1" or "true";
        var unused = plan.UnusedBuildArgs.Where(arg => arg != InlineCacheArg).ToList();
        if (unused.Count > 0)
            warnings.Add($"[Warning] One or more build-args [{string.Join(' ', unused)}] were not consumed");
        if (inlineCache && request.Squash)
            warnings.Add("[Warning] --squash: the squashed image has no layer per step, so it carries no inline cache metadata");
        var sources = new List<CacheSource>();
        foreach (var name in request.CacheFrom)
            if (await CacheSourceAsync(name, warnings, cancel) is { } source)
                sources.Add(source);
        foreach (var warning in warnings)
            progress.Warning(warning);

        var built = new Dictionary<int, string>();
        var results = new Dictionary<int, StageResult>();
        var counts = new StepCounts(plan.Stages.Sum(s => s.Stage.Instructions.Count + 1));
        try
        {
            // Stages of a wave need nothing of each other: they build at once (a RUN of one while another copies).
            foreach (var wave in plan.Waves)
            {
                var done = await Task.WhenAll(wave.Select(stage => BuildStageAsync(request, plan, stage, built, sources, counts, cancel)));
                for (int i = 0; i < wave.Count; i++)
                    (built[wave[i].Index], results[wave[i].Index]) = (done[i].Image, done[i]);
            }
        }
        finally
        {
            // What was hashed stays known even when a later step failed: the retry reads only what changed.
            statCache?.Save();
        }

        var target = results[plan.Target.Index];
        string final = target.Image;
        if (request.Labels.Count > 0)
        {
            var config = ConfigOf(final);
            final = _steps.Configure(final, config with { Labels = ImageChanges.MergeLabels(config.Labels, request.Labels) }, "LABEL " + string.Join(' ', request.Labels.Select(l => $"{l.Key}={l.Value}"))).Id;
        }
        if (inlineCache && !request.Squash)
            final = host.ImageStore.WithConfigField(final, InlineCache.Field, InlineCache.Write(target.Steps.Select(step => (step.Chain, PrefixOf(step.Image))))).Id;
        // Squashed last, as docker's builder: the step images stay as they are, so the cache keeps working.
        if (request.Squash)
            final = host.ImageStore.Squash(new SquashRequest
            {
                ImageId = final,
                BaseImageId = target.Base,
                // The built image's time: squashing an unchanged build again gives the same image.
                Created = host.ImageStore.Resolve(final).Created,
            }).Id;
        foreach (var tag in request.Tags)
            host.Images.Tag(final, tag);
        // FROM lines are numbered as steps but are neither run nor cached: the summary counts the instructions.
        return new BuildResult(host.ImageStore.Resolve(final), counts.Total - plan.Stages.Count, counts.Cached, warnings);
    }

    private const string InlineCacheArg = "BUILDKIT_INLINE_CACHE";

    /// <summary>A --cache-from image, pulled when it is not here; a warning and no source when it cannot be had (as BuildKit's, a cache is never a reason to fail).</summary>
    private async Task<CacheSource?> CacheSourceAsync(string name, List<string> warnings, CancellationToken cancel)
    {
        try
        {
            var image = host.ImageStore.TryResolve(name) ?? (await host.Images.PullAsync(new PullRequest { Reference = name }, cancel: cancel)).Image;
            return CacheSource.Read(image, host.ImageStore.ConfigDocument(image));
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error) && error is not OperationCanceledException)
        {
            warnings.Add($"[Warning] --cache-from {name}: the image is not here and cannot be pulled ({error.Message}); building without it");
            return null;
        }
    }

    /// <summary>How many layers and history entries image <paramref name="imageId"/> has.</summary>
    private ImagePrefix PrefixOf(string imageId)
    {
        var image = host.ImageStore.Resolve(imageId);
        return new ImagePrefix(image.Layers.Count, host.ImageStore.ConfigDocument(image)["history"] is JsonArray history ? history.Count : 0);
    }

    /// <summary>A built stage: its image, the image it started from (its FROM), and its steps' chain keys with their images.</summary>
    private sealed record StageResult(string Image, string Base, IReadOnlyList<(string Chain, string Image)> Steps);

    /// <summary>Step numbers and the count of cached steps, shared by the stages building at once.</summary>
    private sealed class StepCounts(int total)
    {
        private int _done;
        private int _cached;

        public int Total { get; } = total;
        public int Cached => _cached;

        public int Next() => Interlocked.Increment(ref _done);

        public void CountCached() => Interlocked.Increment(ref _cached);
    }

    /// <summary>A stage as it is being built: its image so far, its configuration, the ARGs in scope and its SHELL.</summary>
    private sealed class StageState(string imageId, ImageExecutionConfig config)
    {
        public string ImageId { get; set; } = imageId;
        /// <summary>The key of the last step on the chain from the stage's base image (its ID to start with): what --cache-from images are searched by.</summary>
        public string ChainKey { get; set; } = imageId;
        /// <summary>Where each --cache-from image's history is matched up to (classic matching), null once it no longer is.</summary>
        public Dictionary<CacheSource, ImagePrefix?> Positions { get; set; } = [];
        /// <summary>The stage's steps so far: their chain keys and images (the inline cache metadata of the final stage).</summary>
        public List<(string Chain, string Image)> Steps { get; } = [];
        public ImageExecutionConfig Config { get; set; } = config;
        public Dictionary<string, string> Args { get; } = new(StringComparer.Ordinal);
        public List<string> Shell => Config.Shell ?? DefaultShell;
        /// <summary>--no-cache-filter named this stage: its steps run again.</summary>
        public bool NoCache { get; init; }
        /// <summary>Whether this stage set CMD (which a later ENTRYPOINT then keeps).</summary>
        public bool CmdSetHere { get; set; }

        /// <summary>What substitution sees: the args in scope, then the environment (ENV wins over ARG, as docker's).</summary>
        public Dictionary<string, string> Scope()
        {
            var scope = new Dictionary<string, string>(Args, StringComparer.Ordinal);
            foreach (var variable in Config.Env ?? [])
            {
                int equals = variable.IndexOf('=');
                if (equals > 0)
                    scope[variable[..equals]] = variable[(equals + 1)..];
            }
            return scope;
        }
    }

    private async Task<StageResult> BuildStageAsync(BuildRequest request, BuildPlan plan, PlannedStage planned, IReadOnlyDictionary<int, string> built,
        IReadOnlyList<CacheSource> sources, StepCounts counts, CancellationToken cancel)
    {
        var from = planned.Stage.From;
        string label = planned.Stage.Name is { } name ? $"{name} " : "";
        int fromNumber = counts.Next();
        progress.Step(fromNumber, counts.Total, $"[{label}{fromNumber}/{counts.Total}] {from.Text}");
        var fromClock = System.Diagnostics.Stopwatch.StartNew();
        string baseImage = planned.BaseStage is { } stageIndex ? built[stageIndex] : await BaseImageAsync(plan, planned, request.Pull, cancel);
        progress.Done(fromNumber, cached: false, fromClock.Elapsed);
        var state = new StageState(baseImage, ConfigOf(baseImage))
        {
            NoCache = request.NoCacheFilter.Contains(planned.Stage.Name ?? "") || request.NoCacheFilter.Contains(planned.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        if (sources.Count > 0)
        {
            var (baseInfo, baseHistory) = (host.ImageStore.Resolve(baseImage), PrefixOf(baseImage).History);
            // An image with inline metadata is searched by it alone: its history says less than its keys.
            state.Positions = sources.ToDictionary(source => source, source => source.HasInlineCache ? null : source.Start(baseInfo, baseHistory));
        }
        // As BuildKit: a stage FROM scratch starts with the default PATH (an image's base keeps its own Env as it is).
        if (planned.BaseStage is null && planned.BaseImage.Equals("scratch", StringComparison.OrdinalIgnoreCase))
            state.Config = state.Config with { Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] };
        // The base's ONBUILD triggers run first, as docker's; the stage's image does not pass them on.
        var triggers = state.Config.OnBuild is { Count: > 0 } onBuild ? Triggers(onBuild, plan.Document.FileName) : [];
        if (triggers.Count > 0)
            state.Config = state.Config with { OnBuild = null };

        foreach (var instruction in triggers.Concat(planned.Stage.Instructions))
        {
            cancel.ThrowIfCancellationRequested();
            int number = counts.Next();
            progress.Step(number, counts.Total, $"[{label}{number}/{counts.Total}] {instruction.Text}");
            var started = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                bool cached = await ExecuteAsync(request, plan, state, instruction, built, number, cancel);
                if (cached)
                    counts.CountCached();
                progress.Done(number, cached, started.Elapsed);
            }
            catch (Exception error) when (ErrorKinds.IsExpected(error) && error is not OperationCanceledException
                && !error.Message.StartsWith(plan.Document.FileName + ":", StringComparison.Ordinal))
            {
                // Every failure of a step names the Dockerfile's line, whichever layer raised it.
                string message = $"{plan.Document.FileName}:{instruction.StartLine}: {instruction.Keyword}: {error.Message}";
                throw error is StepFailedException failed
                    ? new StepFailedException(failed.ExitCode, message)
                    : new BuildException(ErrorKinds.Of(error), message, error);
            }
        }
        return new StageResult(state.ImageId, baseImage, state.Steps);
    }

    private async Task<string> BaseImageAsync(BuildPlan plan, PlannedStage planned, bool pull, CancellationToken cancel)
    {
        if (planned.BaseImage.Equals("scratch", StringComparison.OrdinalIgnoreCase))
            return host.ImageStore.Scratch().Id;
        if (!pull && host.ImageStore.TryResolve(planned.BaseImage) is { } local)
            return local.Id;
        try
        {
            var pulled = await host.Images.PullAsync(new PullRequest { Reference = planned.BaseImage }, cancel: cancel);
            return pulled.Image.Id;
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error) && error is not OperationCanceledException)
        {
            throw new BuildException(ErrorKinds.Of(error) == ErrorKind.Internal ? ErrorKind.Unavailable : ErrorKinds.Of(error),
                $"{plan.Document.FileName}:{planned.Stage.From.StartLine}: FROM {planned.BaseImage}: the image is not here and cannot be pulled ({error.Message})", error);
        }
    }

    /// <summary>Runs one instruction (or finds its result in the cache); true when it was cached.</summary>
    private async Task<bool> ExecuteAsync(BuildRequest request, BuildPlan plan, StageState state, Instruction instruction,
        IReadOnlyDictionary<int, string> built, int number, CancellationToken cancel)
    {
        char escape = plan.Document.Escape;
        string Expand(string word) => ShellWordExpander.Expand(word, state.Scope(), escape);
        var config = state.Config;
        switch (instruction)
        {
            case ArgInstruction arg:
                foreach (var declaration in arg.Args)
                    if (plan.ResolveArg(declaration, state.Scope()) is { } value)
                        state.Args[declaration.Name] = value;
                    else
                        state.Args.Remove(declaration.Name);
                return false;
            case EnvInstruction env:
                var variables = env.Variables.Select(v => (v.Key, Value: Expand(v.Value))).ToList();
                return Configure(request, state, config with { Env = ImageChanges.MergeEnv(config.Env, variables.Select(v => $"{v.Key}={v.Value}")) },
                    "ENV " + string.Join(' ', variables.Select(v => $"{v.Key}={v.Value}")));
            case LabelInstruction labels:
                var pairs = labels.Labels.ToDictionary(l => Expand(l.Key), l => Expand(l.Value));
                return Configure(request, state, config with { Labels = ImageChanges.MergeLabels(config.Labels, pairs) }, "LABEL " + string.Join(' ', pairs.Select(l => $"{l.Key}={l.Value}")));
            case ExposeInstruction expose:
                var ports = expose.Ports.SelectMany(p => ShellWordExpander.ExpandWords(p, state.Scope(), escape)).SelectMany(ImageChanges.PortKeys).ToList();
                return Configure(request, state, config with { ExposedPorts = ImageChanges.Merge(config.ExposedPorts, ports) }, "EXPOSE " + string.Join(' ', ports));
            case VolumeInstruction volume:
                var paths = volume.Paths.Select(Expand).ToList();
                if (paths.Any(p => p.Length == 0))
                    throw new BuildException("VOLUME names an empty path.");
                return Configure(request, state, config with { Volumes = ImageChanges.Merge(config.Volumes, paths) }, "VOLUME [" + string.Join(", ", paths.Select(p => $"\"{p}\"")) + "]");
            case UserInstruction user:
                string who = Expand(user.User);
                return Configure(request, state, config with { User = who }, "USER " + who);
            case WorkdirInstruction workdir:
                string directory = Expand(workdir.Path);
                string absolute = directory.StartsWith('/') ? directory : Path.Combine(config.WorkingDir is { Length: > 0 } current ? current : "/", directory);
                absolute = "/" + string.Join('/', absolute.Split('/', StringSplitOptions.RemoveEmptyEntries));
                return Workdir(request, state, config with { WorkingDir = absolute }, absolute);
            case StopSignalInstruction stop:
                string signal = Expand(stop.Signal);
                return Configure(request, state, config with { StopSignal = signal }, "STOPSIGNAL " + signal);
            case CmdInstruction cmd:
                var command = Command(cmd.Command, state);
                state.CmdSetHere = true;
                return Configure(request, state, config with { Cmd = command }, "CMD " + Json(command));
            case EntrypointInstruction entrypoint:
                var entry = Command(entrypoint.Command, state);
                // As docker: a new ENTRYPOINT drops a CMD inherited from the base (one set in this stage stays).
                return Configure(request, state, config with { Entrypoint = entry, Cmd = state.CmdSetHere ? config.Cmd : null }, "ENTRYPOINT " + Json(entry));
            case ShellInstruction shell:
                return Configure(request, state, config with { Shell = [.. shell.Shell] }, "SHELL " + Json(shell.Shell));
            case HealthcheckInstruction health:
                var healthConfig = new HealthConfig
                {
                    Test = [.. health.Test],
                    Interval = health.Interval.Ticks * 100,
                    Timeout = health.Timeout.Ticks * 100,
                    StartPeriod = health.StartPeriod.Ticks * 100,
                    StartInterval = health.StartInterval.Ticks * 100,
                    Retries = health.Retries,
                };
                return Configure(request, state, config with { Healthcheck = healthConfig }, "HEALTHCHECK " + Json(health.Test));
            case OnbuildInstruction onbuild:
                return Configure(request, state, config with { OnBuild = [.. config.OnBuild ?? [], onbuild.Trigger.Text] }, "ONBUILD " + onbuild.Trigger.Text);
            case MaintainerInstruction maintainer:
                return Configure(request, state, config, "MAINTAINER " + Expand(maintainer.Maintainer));
            case RunInstruction run:
                return await RunAsync(request, plan, state, run, built, number, cancel);
            case FileInstruction file:
                return await CopyAsync(request, plan, state, file, built, cancel);
            default:
                throw new BuildException($"{instruction.Keyword} is not an instruction a stage can run.");
        }
    }

    /// <summary>The base image's ONBUILD triggers as instructions (each is one Dockerfile line).</summary>
    private static IReadOnlyList<Instruction> Triggers(IReadOnlyList<string> onBuild, string fileName)
    {
        var document = DockerfileParser.Parse("FROM base\n" + string.Join('\n', onBuild) + "\n", fileName + " (ONBUILD of the base image)");
        return document.Stages[0].Instructions;
    }

    /// <summary>A metadata instruction: a new configuration on the same layers (cached like any step).</summary>
    private bool Configure(BuildRequest request, StageState state, ImageExecutionConfig config, string createdBy)
    {
        var key = KeyOf(state, createdBy, classic: true);
        bool cached = Reuse(request, state, key, config);
        if (!cached)
            Made(state, key, _steps.Configure(state.ImageId, config, createdBy).Id);
        state.Config = config;
        return cached;
    }

    /// <summary>
    /// WORKDIR: the configuration, and the directory made (0755) with its missing parents when the image lacks it,
    /// owned by the stage's USER (root without one), as BuildKit's mkdir with the user and as buildah.
    /// </summary>
    private bool Workdir(BuildRequest request, StageState state, ImageExecutionConfig config, string directory)
    {
        string createdBy = "WORKDIR " + directory;
        // What WORKDIR makes depends on the image alone: its history entry says all of it.
        var key = KeyOf(state, createdBy, classic: true);
        bool cached = Reuse(request, state, key, config);
        if (!cached)
            Made(state, key, _steps.ChangeFiles(state.ImageId, config, createdBy,
                rootfs => TargetDirectories.Ensure(rootfs, directory, "WORKDIR", CopyApplier.ResolveOwner(rootfs, config.User, subject: $"WORKDIR {directory} as USER {config.User}"))).Id);
        state.Config = config;
        return cached;
    }

    /// <summary>
    /// A step's keys: <paramref name="Local"/> in this store's cache (on the parent image's ID), <paramref name="Chain"/>
    /// in --cache-from images (on the chain of keys from the stage's base image, which another store's images share).
    /// <paramref name="Classic"/>: the history entry (<paramref name="CreatedBy"/>) names all the step depends on.
    /// </summary>
    private readonly record struct StepKey(string Local, string Chain, string CreatedBy, bool Classic);

    private static StepKey KeyOf(StageState state, string createdBy, bool classic, params IEnumerable<string> inputs)
    {
        var list = inputs.ToList();
        return new StepKey(Key(state.ImageId, createdBy, list), Key(state.ChainKey, createdBy, list), createdBy, classic);
    }

    /// <summary>
    /// Finds the step's result made before: in this store's cache, else in a --cache-from image (by its inline
    /// metadata, else by its history where <see cref="StepKey.Classic"/> allows), which is then remembered in the
    /// cache too. True when found: the stage goes on from it.
    /// </summary>
    private bool Reuse(BuildRequest request, StageState state, StepKey key, ImageExecutionConfig config)
    {
        var positions = state.Positions.ToDictionary(p => p.Key, p => p.Value is { } at && key.Classic ? p.Key.Next(at, key.CreatedBy) : null);
        state.Positions = positions;
        if (request.NoCache || state.NoCache)
            return false;
        string? image = cache.Find(key.Local, id => host.ImageStore.TryResolve(id) is not null);
        if (image is null && FromSources(state, key, positions, config) is { } taken)
        {
            image = taken;
            cache.Put(key.Local, taken, key.CreatedBy);
        }
        if (image is null)
            return false;
        Record(state, key, image);
        return true;
    }

    private string? FromSources(StageState state, StepKey key, Dictionary<CacheSource, ImagePrefix?> positions, ImageExecutionConfig config)
    {
        var (source, at) = positions.Keys.Select(s => (s, s.Find(key.Chain))).FirstOrDefault(found => found.Item2 is not null);
        if (at is null)
            (source, at) = positions.Where(p => p.Value is not null).Select(p => (p.Key, p.Value)).FirstOrDefault();
        if (source is null || at is not { } prefix)
            return null;
        try
        {
            return host.ImageStore.Prefix(new PrefixRequest { ImageId = source.Image.Id, Layers = prefix.Layers, History = prefix.History, Config = config, ParentId = state.ImageId }).Id;
        }
        catch (ImageException error)
        {
            // Metadata that does not describe its image makes it no cache for this step, not a failed build.
            progress.Warning($"[Warning] --cache-from {source.Image.ShortId}: {error.Message}");
            return null;
        }
    }

    /// <summary>A step made its image: remembered in the cache, and the stage goes on from it.</summary>
    private void Made(StageState state, StepKey key, string imageId)
    {
        cache.Put(key.Local, imageId, key.CreatedBy);
        Record(state, key, imageId);
    }

    private static void Record(StageState state, StepKey key, string imageId)
    {
        state.ImageId = imageId;
        state.ChainKey = key.Chain;
        state.Steps.Add((key.Chain, imageId));
    }

    private async Task<bool> RunAsync(BuildRequest request, BuildPlan plan, StageState state, RunInstruction run,
        IReadOnlyDictionary<int, string> built, int number, CancellationToken cancel)
    {
        var heredocRun = run.Heredocs.Count > 0 ? HeredocRun.For(run, state.Shell, plan.Document.Escape) : null;
        var command = heredocRun?.Command ?? Command(run.Command, state);
        var scope = state.Scope();
        var mounts = run.Mounts.Select(value => RunMount.Parse(value, word => ShellWordExpander.Expand(word, scope, plan.Document.Escape))).ToList();
        // A bind mount from= a stage or image: its image ID is in the key, so a rebuilt stage runs the step again.
        var images = mounts.Where(m => m.Type == RunMountType.Bind && m.From is not null).Select(m => m.From!).Distinct()
            .ToDictionary(from => from, from => MountImage(plan, from, built));
        // A bind of the context: what it shows is in the key, as BuildKit's (another file there runs the step again).
        var bound = mounts.Where(m => m.Type == RunMountType.Bind && m.From is null).Select(m =>
        {
            var sources = request.Context.Sources;
            string source = m.Source ?? ".";
            return $"mount-context={source} {ContentHasher.Compute(sources, sources.Plan([source], [], parents: false, "RUN --mount"), (0, 0), null, statCache).Digest}";
        }).ToList();
        // Build args in scope are the command's environment, as docker's (never the image's); ENV values win.
        var env = state.Args.Where(a => !(state.Config.Env ?? []).Any(e => e.StartsWith(a.Key + "=", StringComparison.Ordinal)))
            .Concat(plan.ProxyArgs.Where(p => !state.Args.ContainsKey(p.Key)))
            .Select(a => $"{a.Key}={a.Value}").OrderBy(a => a, StringComparer.Ordinal).ToList();
        string network = run.Network ?? request.Network;
        // BuildKit's form: the command as run, words joined.
        string createdBy = "RUN " + string.Join(' ', command);
        var proxyNames = plan.ProxyArgs.Keys.ToHashSet();
        var keyedEnv = env.Where(e => !proxyNames.Contains(e[..e.IndexOf('=')])).ToList();
        string? scriptBody = heredocRun?.Script?.Content;
        // Without build args, mounts or a script file, the command line is all a RUN depends on, as the classic builder assumes.
        var key = KeyOf(state, createdBy, classic: keyedEnv.Count == 0 && run.Mounts.Count == 0 && scriptBody is null,
            [.. keyedEnv, .. run.Mounts.Select(m => "mount=" + m),
            .. images.OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => $"mount-from={i.Key} {i.Value}"), .. bound,
            .. scriptBody is { } script ? ["script=" + script] : Array.Empty<string>(), "network=" + network]);
        if (Reuse(request, state, key, state.Config))
            return true;
        using var resources = new StepResources(host.Options.RunRoot);
        var stepMounts = RunMounts.For(host, request.Context, mounts, request.Secrets, images, resources);
        // A secret asked for as a variable is the command's alone: after the key, over a build arg of its name.
        var secretNames = stepMounts.SecretEnv.Select(e => e[..e.IndexOf('=')]).ToHashSet();
        using var output = progress.Output(number);
        var image = await _steps.RunAsync(new RunStep
        {
            ImageId = state.ImageId,
            Config = state.Config,
            Command = command,
            CreatedBy = createdBy,
            Env = [.. env.Where(e => !secretNames.Contains(e[..e.IndexOf('=')])), .. stepMounts.SecretEnv],
            Network = network,
            Mounts = [.. stepMounts.Mounts, .. heredocRun?.Mounts(resources) ?? []],
            ExtraHosts = request.ExtraHosts,
            Ulimits = request.Ulimits,
            ShmSize = request.ShmSize,
        }, output, output, cancel);
        Made(state, key, image.Id);
        return false;
    }

    private async Task<bool> CopyAsync(BuildRequest request, BuildPlan plan, StageState state, FileInstruction file,
        IReadOnlyDictionary<int, string> built, CancellationToken cancel)
    {
        var scope = state.Scope();
        char escape = plan.Document.Escape;
        string Expand(string word) => ShellWordExpander.Expand(word, scope, escape);
        var sources = file.Sources.Select(Expand).ToList();
        string destination = Expand(file.Destination);
        string? chown = file.Chown is null ? null : Expand(file.Chown);
        string? chmod = file.Chmod is null ? null : Expand(file.Chmod);
        var excludes = file.Excludes.Select(Expand).ToList();
        bool parents = file is CopyInstruction { Parents: true };
        string? from = file is CopyInstruction { From: { } written } ? Expand(written) : null;
        string? checksum = file is AddInstruction { Checksum: { } sum } ? Expand(sum) : null;
        if (checksum is not null && (sources.Count != 1 || !RemoteSource.IsUrl(sources[0])))
            throw new BuildException("ADD --checksum needs exactly one source, an http(s) URL: write one ADD per URL to check.");

        // The paths' tree: the context, or the rootfs of a stage or image (COPY --from) seen through a snapshot.
        using var fromRootfs = from is null ? null : new SnapshotView(host, FromImage(plan, from, built));
        var local = fromRootfs is null ? request.Context.Sources : new SourceTree(fromRootfs.Path, SourceScope.Rootfs, IgnorePatterns.None);
        var downloads = new BuildStore(host.Options).Downloads;
        using var copySources = await CopySources.OpenAsync(file, file.Sources, sources, escape, scope, local, fromRootfs?.ImageId ?? "context",
            downloads, url => RemoteSource.FetchAsync(Http, url, checksum, downloads, cancel));
        var modeChange = chmod is null ? null : ModeChange.Parse(chmod, file.Keyword);
        // Each group is planned alone but counted with all: several sources need a directory destination.
        var plans = copySources.Groups.Select(group => (Group: group,
            Plan: group.Tree.Plan(group.Sources, excludes, parents, file.Keyword) with { SourceCount = sources.Count })).ToList();
        var digests = plans.Select(p => $"content={p.Group.Origin} {ContentHasher.Compute(p.Group.Tree, p.Plan, (0, 0), modeChange, p.Group.InContext ? statCache : null).Digest}");
        string createdBy = $"{file.Keyword} {string.Join(' ', sources)} {destination}";
        // Never matched by history: "COPY a /a" says nothing of what a held.
        var key = KeyOf(state, createdBy, classic: false, ["from=" + (fromRootfs?.ImageId ?? "context"), "chown=" + chown, "chmod=" + chmod,
            "parents=" + parents, .. excludes.Select(e => "exclude=" + e), "workdir=" + state.Config.WorkingDir, .. digests]);
        if (Reuse(request, state, key, state.Config))
            return true;
        cancel.ThrowIfCancellationRequested();
        var image = _steps.ChangeFiles(state.ImageId, state.Config, createdBy,
            rootfs =>
            {
                foreach (var (group, copyPlan) in plans)
                    CopyApplier.Apply(group.Tree, copyPlan, rootfs, destination, state.Config.WorkingDir ?? "/", new CopyOptions
                    {
                        Chown = chown, Chmod = chmod, ExtractArchives = group.Extract, Instruction = file.Keyword,
                        KeepOwners = fromRootfs is not null && group.Tree == local && chown is null,
                    });
                return true;
            });
        Made(state, key, image.Id);
        return false;
    }

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(10) };

    /// <summary>RUN --mount from='s image: as COPY --from's, with what to do when it names nothing.</summary>
    private string MountImage(BuildPlan plan, string from, IReadOnlyDictionary<int, string> built)
    {
        try
        {
            return FromImage(plan, from, built);
        }
        catch (Exception error) when (ErrorKinds.IsExpected(error) && error is not OperationCanceledException and not StepFailedException)
        {
            throw new BuildException(ErrorKind.NotFound, $"RUN --mount from={from}: \"{from}\" is neither a stage of this Dockerfile nor an image here or in a registry ({error.Message}); name a stage (FROM ... AS {from}) or an image", error);
        }
    }

    /// <summary>COPY --from's image: a stage by name or index, else an image (pulled when missing).</summary>
    private string FromImage(BuildPlan plan, string from, IReadOnlyDictionary<int, string> built)
    {
        var stage = plan.Document.Stages.FirstOrDefault(s => s.Name == from.ToLowerInvariant())
            ?? (int.TryParse(from, out int index) && index >= 0 && index < plan.Document.Stages.Count ? plan.Document.Stages[index] : null);
        if (stage is not null)
            return built.TryGetValue(stage.Index, out var id) ? id
                : throw new BuildException($"--from={from} names a stage that is not built before this one.");
        return (host.ImageStore.TryResolve(from) ?? host.Images.PullAsync(new PullRequest { Reference = from }).GetAwaiter().GetResult().Image).Id;
    }

    /// <summary>A command as the image keeps it: exec form as written, shell form run by the stage's SHELL.</summary>
    private static List<string> Command(CommandLine command, StageState state)
        => command.PrependShell ? [.. state.Shell, string.Join(' ', command.Arguments)] : [.. command.Arguments];

    private ImageExecutionConfig ConfigOf(string imageId)
        => host.ImageStore.Config(host.ImageStore.Resolve(imageId)).Config ?? new ImageExecutionConfig();

    /// <summary>The step's cache key: SHA-256 of its parent, its instruction after substitution, and what else it depends on, one per line.</summary>
    private static string Key(string parent, string instruction, params IEnumerable<string> inputs)
    {
        var text = new StringBuilder().Append(parent).Append('\n').Append(instruction.Replace("\n", "\\n"));
        foreach (var input in inputs)
            text.Append('\n').Append(input.Replace("\n", "\\n"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>A JSON array as docker writes CMD and the like in history: '&amp;', '&lt;' and '+' as they are, not \u escapes.</summary>
    private static string Json(IReadOnlyList<string> values)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            JsonSerializer.Serialize(writer, values.ToList(), BuildJsonContext.Default.ListString);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
