using Skiff.Engine.Specs;
using Skiff.Images.Service;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Oci.Image;
using Skiff.Seccomp;

namespace Skiff.Engine;

/// <summary>
/// What the engine decides before a container is created (<c>host.RunPolicy</c>): which image it runs, pulled or
/// not per the <see cref="PullPolicy"/>, which seccomp filter it gets, and what its security options mean. Turns a
/// front end's <see cref="CreateContainerRequest"/> into the <see cref="CreateRequest"/> the creation takes.
/// Holds no state of its own: safe for concurrent calls.
/// </summary>
public sealed class ContainerRunPolicy(ImageService images)
{
    private const string SupportedSecurityOptions = "no-new-privileges, seccomp=PROFILE|unconfined, apparmor=PROFILE|unconfined and label=user:|role:|type:|level:|disable";

    /// <summary>
    /// Resolves <paramref name="request"/>. When the image must be pulled, <paramref name="pulling"/> is called first
    /// with its reference and returns where the pull reports its progress (docker run says it could not find the
    /// image, then shows the pull); null pulls silently.
    /// </summary>
    public async Task<CreateRequest> ResolveAsync(CreateContainerRequest request, Func<string, IProgress<PullProgress>?>? pulling = null,
        CancellationToken cancellationToken = default)
    {
        Refuse(request);
        ContainerCreation.ValidateSettings(request);
        var image = await ImageAsync(request, pulling, cancellationToken).ConfigureAwait(false);
        var options = request.Options with { NoNewPrivileges = NoNewPrivileges(request.SecurityOptions) };
        options = options with
        {
            Seccomp = SeccompProfile(options, request.Seccomp, HostFacts.Current()),
            SecurityLabels = SecurityLabels.FromOptions(request.SecurityOptions, options.Privileged, SecurityModules.Host),
        };
        return new CreateRequest(request, new ContainerImage(image.Id, images.Config(image).Config)) { Options = options };
    }

    /// <summary>
    /// What no container here can have: GPUs, another isolation technology, another platform's programs, storage
    /// quotas, kernel memory limits, signature verification.
    /// </summary>
    internal static void Refuse(CreateContainerRequest request)
    {
        // docker's own reason: its overlay driver has quotas only on xfs mounted with pquota; skiff's has none at all.
        if (request.StorageOptions.Count > 0)
            throw new EngineException(ErrorKind.InvalidArgument,
                $"storage option {request.StorageOptions.Keys.First()} is not supported: per-container storage options are supported only for overlay over xfs with 'pquota' mount option, and skiff's overlay store has no quotas");
        // Linux 5.4 deprecated kmem limits and 6.1 removed them; docker ignores the field since API 1.42.
        // Refused rather than ignored: skiff ignores nothing silently.
        if (request.KernelMemory is not null)
            throw new EngineException(ErrorKind.InvalidArgument,
                "kernel memory limits are not supported: the kernel deprecated them (Linux 5.4) and then removed them, and docker ignores them since API 1.42; use a memory limit instead");
        if (request.ContentTrust)
            throw new EngineException(ErrorKind.InvalidArgument,
                "content trust cannot be enforced: skiff does not verify image signatures (Docker Content Trust, Notary); run without it, or verify the image another way first");
        // docker documents links as legacy; on user networks its --link is an alias, which network aliases are.
        if (request.Links.Count > 0)
            throw new EngineException(ErrorKind.InvalidArgument,
                $"legacy container links ({request.Links[0]}) are not supported: put the containers on a user network, where they find each other by name and network alias");
        if (request.LinkLocalIps.Count > 0)
            throw new EngineException(ErrorKind.InvalidArgument,
                $"link-local addresses ({request.LinkLocalIps[0]}) are not supported: containers get their addresses from their networks, or from the IPv4 and IPv6 addresses given for their first network");
        if (request.Gpus is not null)
            throw new EngineException(ErrorKind.InvalidArgument, $"GPU request \"{request.Gpus}\" cannot be met: skiff has no GPU support");
        if (request.Isolation is not (null or "" or "default"))
            throw new EngineException(ErrorKind.InvalidArgument, $"isolation \"{request.Isolation}\" is not supported: Linux containers have only the default isolation");
        if (request.PullOptions.Platform is { } platform && !platform.Matches(Platform.Host))
            throw new EngineException(ErrorKind.InvalidArgument, $"platform {platform} cannot run on this host ({Platform.Host}): skiff does not emulate other architectures");
    }

    private async Task<ImageInfo> ImageAsync(CreateContainerRequest request, Func<string, IProgress<PullProgress>?>? pulling, CancellationToken cancellationToken)
    {
        var local = request.Pull == PullPolicy.Always ? null : images.TryResolve(request.Image);
        // An image of another platform under that name is not the one asked for: docker pulls the right one.
        if (local is not null && request.PullOptions.Platform is { } platform && images.Config(local) is var config
            && !platform.Matches(new Platform { OS = config.OS, Architecture = config.Architecture, Variant = config.Variant }))
            local = null;
        if (!MustPull(request.Pull, local is not null, request.Image))
            return local!;
        var progress = pulling?.Invoke(request.Image);
        return await images.PullAsync(request.Image, request.PullOptions, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether <paramref name="image"/> is pulled: always for <see cref="PullPolicy.Always"/>, else only when it is not here, which <see cref="PullPolicy.Never"/> refuses.</summary>
    internal static bool MustPull(PullPolicy policy, bool present, string image) => policy switch
    {
        PullPolicy.Always => true,
        _ when present => false,
        PullPolicy.Never => throw new EngineException(ErrorKind.NotFound, $"no such image {image} here, and its pull policy forbids pulling it: pull it first"),
        _ => true,
    };

    /// <summary>no-new-privileges in any of docker's spellings; every option that is not a security label is refused.</summary>
    internal static bool NoNewPrivileges(IReadOnlyList<string> securityOptions)
    {
        bool noNewPrivileges = false;
        foreach (var option in securityOptions)
        {
            if (option is "no-new-privileges" or "no-new-privileges:true" or "no-new-privileges=true")
                noNewPrivileges = true;
            else if (option is "no-new-privileges:false" or "no-new-privileges=false")
                noNewPrivileges = false;
            else if (!SecurityLabels.Handles(option))
                throw new EngineException(ErrorKind.InvalidArgument, $"security option {option} is not supported: supported are {SupportedSecurityOptions}");
        }
        return noNewPrivileges;
    }

    /// <summary>docker's choice: no filter for a privileged container or when unconfined; else the given profile or docker's default, for the container's capabilities.</summary>
    internal static LinuxSeccomp? SeccompProfile(RunOptions options, SeccompChoice choice, HostFacts host)
    {
        if (options.Privileged || choice.Mode == SeccompMode.Unconfined)
            return null;
        var capabilities = ContainerSpecBuilder.Capabilities(options, host);
        if (choice.Mode == SeccompMode.Default)
            return DockerDefaultProfile.For(capabilities);
        try
        {
            return DockerSeccompProfile.Parse(choice.Profile.Span, choice.Source ?? "seccomp profile")
                .Resolve(capabilities, DockerSeccompProfile.NativeArch, Environment.OSVersion.Version);
        }
        catch (SeccompException error)
        {
            // An engine error like any other of the request, for every front end to report as such.
            throw new EngineException(ErrorKind.InvalidArgument, error.Message, error);
        }
    }
}
