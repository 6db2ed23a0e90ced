using System.Text.Json;
using System.Text.Json.Serialization;
using Skiff.Engine;

namespace Skiff.Api;

// The Docker Engine API's own shapes (moby's api/swagger.yaml), with its field names. Requests take every field as
// optional (docker's clients send zero values and nulls for what was not given); responses carry docker's zero
// values for what Skiff cannot know rather than leaving fields out.

internal sealed record ErrorResponse([property: JsonPropertyName("message")] string Message);

/// <summary>POST /containers/create: Config, with HostConfig and NetworkingConfig inside.</summary>
internal sealed class ContainerCreateBody
{
    public string? Hostname { get; set; }
    public string? Domainname { get; set; }
    public string? User { get; set; }
    public bool AttachStdin { get; set; }
    public bool AttachStdout { get; set; }
    public bool AttachStderr { get; set; }
    public Dictionary<string, JsonElement>? ExposedPorts { get; set; }
    public bool Tty { get; set; }
    public bool OpenStdin { get; set; }
    public bool StdinOnce { get; set; }
    public List<string>? Env { get; set; }
    public List<string>? Cmd { get; set; }
    public Skiff.Oci.Image.HealthConfig? Healthcheck { get; set; }
    public string? Image { get; set; }
    public Dictionary<string, JsonElement>? Volumes { get; set; }
    public string? WorkingDir { get; set; }
    public List<string>? Entrypoint { get; set; }
    public bool? NetworkDisabled { get; set; }
    public string? MacAddress { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public string? StopSignal { get; set; }
    public int? StopTimeout { get; set; }
    public HostConfigBody? HostConfig { get; set; }
    public NetworkingConfigBody? NetworkingConfig { get; set; }
}

internal sealed class HostConfigBody
{
    public List<string>? Binds { get; set; }
    public string? ContainerIDFile { get; set; }
    public LogConfigBody? LogConfig { get; set; }
    public string? NetworkMode { get; set; }
    public Dictionary<string, List<PortBindingBody>?>? PortBindings { get; set; }
    public RestartPolicyBody? RestartPolicy { get; set; }
    public bool AutoRemove { get; set; }
    public string? VolumeDriver { get; set; }
    public List<string>? VolumesFrom { get; set; }
    public List<MountBody>? Mounts { get; set; }
    public List<string>? CapAdd { get; set; }
    public List<string>? CapDrop { get; set; }
    public string? CgroupnsMode { get; set; }
    public List<string>? Dns { get; set; }
    public List<string>? DnsOptions { get; set; }
    public List<string>? DnsSearch { get; set; }
    public List<string>? ExtraHosts { get; set; }
    public List<string>? GroupAdd { get; set; }
    public string? IpcMode { get; set; }
    public List<string>? Links { get; set; }
    public int OomScoreAdj { get; set; }
    public string? PidMode { get; set; }
    public bool Privileged { get; set; }
    public bool PublishAllPorts { get; set; }
    public bool ReadonlyRootfs { get; set; }
    public List<string>? SecurityOpt { get; set; }
    public Dictionary<string, string>? StorageOpt { get; set; }
    public Dictionary<string, string>? Tmpfs { get; set; }
    public string? UTSMode { get; set; }
    public string? UsernsMode { get; set; }
    public long ShmSize { get; set; }
    public Dictionary<string, string>? Sysctls { get; set; }
    public string? Runtime { get; set; }
    public string? Isolation { get; set; }
    public long CpuShares { get; set; }
    public long Memory { get; set; }
    public long NanoCpus { get; set; }
    public string? CgroupParent { get; set; }
    public int BlkioWeight { get; set; }
    public long CpuPeriod { get; set; }
    public long CpuQuota { get; set; }
    public string? CpusetCpus { get; set; }
    public string? CpusetMems { get; set; }
    public List<DeviceBody>? Devices { get; set; }
    public List<string>? DeviceCgroupRules { get; set; }
    public long KernelMemory { get; set; }
    public long MemoryReservation { get; set; }
    public long MemorySwap { get; set; }
    public long? MemorySwappiness { get; set; }
    public bool? OomKillDisable { get; set; }
    public bool? Init { get; set; }
    public long? PidsLimit { get; set; }
    public List<UlimitBody>? Ulimits { get; set; }
    public Dictionary<string, string>? Annotations { get; set; }
}

internal sealed record LogConfigBody(string? Type, Dictionary<string, string>? Config);

internal sealed record PortBindingBody(string? HostIp, string? HostPort);

internal sealed record RestartPolicyBody(string? Name, int MaximumRetryCount);

internal sealed record DeviceBody(string? PathOnHost, string? PathInContainer, string? CgroupPermissions);

internal sealed record UlimitBody(string? Name, long Soft, long Hard);

internal sealed record MountBody(string? Type, string? Source, string? Target, bool ReadOnly, MountBindOptions? BindOptions, MountTmpfsOptions? TmpfsOptions);

internal sealed record MountBindOptions(string? Propagation);

internal sealed record MountTmpfsOptions(long SizeBytes, int Mode);

internal sealed class NetworkingConfigBody
{
    public Dictionary<string, EndpointSettingsBody?>? EndpointsConfig { get; set; }
}

internal sealed class EndpointSettingsBody
{
    public EndpointIpamBody? IPAMConfig { get; set; }
    public List<string>? Aliases { get; set; }
    public string? MacAddress { get; set; }
}

internal sealed record EndpointIpamBody(string? IPv4Address, string? IPv6Address);

internal sealed record ContainerCreateResponse(string Id, IReadOnlyList<string> Warnings);

/// <summary>POST /containers/{id}/wait: docker's ContainerWaitResponse.</summary>
internal sealed record ContainerWaitResponse(int StatusCode, WaitError? Error);

internal sealed record WaitError(string Message);

/// <summary>GET /containers/json: docker's ContainerSummary.</summary>
internal sealed record ContainerSummary
{
    public required string Id { get; init; }
    public required IReadOnlyList<string> Names { get; init; }
    public required string Image { get; init; }
    public required string ImageID { get; init; }
    public required string Command { get; init; }
    public required long Created { get; init; }
    public required IReadOnlyList<SummaryPort> Ports { get; init; }
    public long? SizeRw { get; init; }
    public long? SizeRootFs { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    public required string State { get; init; }
    public required string Status { get; init; }
    public required SummaryHostConfig HostConfig { get; init; }
    public required SummaryNetworkSettings NetworkSettings { get; init; }
    public required IReadOnlyList<InspectMount> Mounts { get; init; }
}

internal sealed record SummaryPort(string IP, int PrivatePort, int PublicPort, string Type);

internal sealed record SummaryHostConfig(string NetworkMode);

internal sealed record SummaryNetworkSettings(IReadOnlyDictionary<string, InspectEndpoint> Networks);

/// <summary>GET /images/json: docker's ImageSummary.</summary>
internal sealed record ImageSummary
{
    public required string Id { get; init; }
    public required string ParentId { get; init; }
    public required IReadOnlyList<string> RepoTags { get; init; }
    public required IReadOnlyList<string> RepoDigests { get; init; }
    public required long Created { get; init; }
    public required long Size { get; init; }
    public long SharedSize { get; init; } = -1;
    public required long VirtualSize { get; init; }
    public required IReadOnlyDictionary<string, string> Labels { get; init; }
    public long Containers { get; init; } = -1;
}

/// <summary>GET /version: docker's SystemVersion.</summary>
internal sealed record SystemVersion
{
    public required VersionPlatform Platform { get; init; }
    public required IReadOnlyList<VersionComponent> Components { get; init; }
    public required string Version { get; init; }
    public required string ApiVersion { get; init; }
    public required string MinAPIVersion { get; init; }
    public string GitCommit { get; init; } = "";
    public required string GoVersion { get; init; }
    public required string Os { get; init; }
    public required string Arch { get; init; }
    public required string KernelVersion { get; init; }
    public bool Experimental { get; init; }
    public string BuildTime { get; init; } = "";
}

internal sealed record VersionPlatform(string Name);

internal sealed record VersionComponent(string Name, string Version, IReadOnlyDictionary<string, string> Details);

/// <summary>One message of docker's JSON progress stream (image pull): status lines, progress, or the error that ended it.</summary>
internal sealed record ProgressMessage
{
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("progressDetail")] public ProgressDetail? ProgressDetail { get; init; }
    [JsonPropertyName("errorDetail")] public ErrorDetail? ErrorDetail { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
}

internal sealed record ProgressDetail([property: JsonPropertyName("current")] long Current, [property: JsonPropertyName("total")] long Total);

internal sealed record ErrorDetail([property: JsonPropertyName("message")] string Message);

/// <summary>docker's VolumeCreateOptions (POST /volumes/create).</summary>
internal sealed record VolumeCreateBody
{
    public string? Name { get; init; }
    public string? Driver { get; init; }
    public Dictionary<string, string>? DriverOpts { get; init; }
    public Dictionary<string, string>? Labels { get; init; }
}

/// <summary>docker's VolumeListResponse.</summary>
internal sealed record VolumeList(List<VolumeInspect> Volumes, List<string> Warnings);

/// <summary>docker's VolumePruneResponse.</summary>
internal sealed record VolumePruneResponse(List<string> VolumesDeleted, long SpaceReclaimed);

/// <summary>docker's NetworkCreateRequest (POST /networks/create).</summary>
internal sealed record NetworkCreateBody
{
    public string? Name { get; init; }
    public string? Driver { get; init; }
    public bool Internal { get; init; }
    public bool EnableIPv6 { get; init; }
    public NetworkCreateIpam? IPAM { get; init; }
    public Dictionary<string, string>? Options { get; init; }
    public Dictionary<string, string>? Labels { get; init; }
}

internal sealed record NetworkCreateIpam
{
    public string? Driver { get; init; }
    public List<NetworkCreateIpamConfig>? Config { get; init; }
}

internal sealed record NetworkCreateIpamConfig
{
    public string? Subnet { get; init; }
    public string? IPRange { get; init; }
    public string? Gateway { get; init; }
}

/// <summary>docker's NetworkCreateResponse.</summary>
internal sealed record NetworkCreateResponse(string Id, string Warning);

/// <summary>docker's NetworkConnectRequest and NetworkDisconnectRequest.</summary>
internal sealed record NetworkConnectBody
{
    public string? Container { get; init; }
    public NetworkEndpointConfig? EndpointConfig { get; init; }
    public bool Force { get; init; }
}

internal sealed record NetworkEndpointConfig
{
    public NetworkEndpointIpam? IPAMConfig { get; init; }
    public List<string>? Aliases { get; init; }
}

internal sealed record NetworkEndpointIpam
{
    public string? IPv4Address { get; init; }
    public string? IPv6Address { get; init; }
}

/// <summary>docker's NetworkPruneResponse.</summary>
internal sealed record NetworkPruneResponse(List<string> NetworksDeleted);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(NetworkCreateBody))]
[JsonSerializable(typeof(NetworkCreateResponse))]
[JsonSerializable(typeof(NetworkConnectBody))]
[JsonSerializable(typeof(NetworkInspect))]
[JsonSerializable(typeof(List<NetworkInspect>))]
[JsonSerializable(typeof(NetworkPruneResponse))]
[JsonSerializable(typeof(VolumeCreateBody))]
[JsonSerializable(typeof(VolumeInspect))]
[JsonSerializable(typeof(VolumeList))]
[JsonSerializable(typeof(VolumePruneResponse))]
[JsonSerializable(typeof(ContainerCreateBody))]
[JsonSerializable(typeof(ContainerCreateResponse))]
[JsonSerializable(typeof(ContainerWaitResponse))]
[JsonSerializable(typeof(List<ContainerSummary>))]
[JsonSerializable(typeof(List<ImageSummary>))]
[JsonSerializable(typeof(SystemVersion))]
[JsonSerializable(typeof(ContainerInspect))]
[JsonSerializable(typeof(ImageInspect))]
[JsonSerializable(typeof(SystemInfo))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>The progress stream omits what a message does not say, as docker's does.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ProgressMessage))]
internal sealed partial class ProgressJsonContext : JsonSerializerContext;
