using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skiff.Oci.Image;

/// <summary>The parts of an OCI image configuration (config.md) that pulling and running need.</summary>
public sealed record ImageConfig
{
    [JsonPropertyName("created")]
    public DateTimeOffset? Created { get; init; }

    [JsonPropertyName("author")]
    public string? Author { get; init; }

    [JsonPropertyName("architecture"), JsonRequired]
    public string Architecture { get; init; } = "";

    [JsonPropertyName("os"), JsonRequired]
    public string OS { get; init; } = "";

    [JsonPropertyName("variant")]
    public string? Variant { get; init; }

    [JsonPropertyName("config")]
    public ImageExecutionConfig? Config { get; init; }

    [JsonPropertyName("rootfs"), JsonRequired]
    public ImageRootFs RootFs { get; init; } = new();

    [JsonPropertyName("history")]
    public List<ImageHistory>? History { get; init; }
}

/// <summary>The <c>config</c> object of an image configuration: defaults for containers of the image.</summary>
public sealed record ImageExecutionConfig
{
    [JsonPropertyName("User")] public string? User { get; init; }
    [JsonPropertyName("ExposedPorts")] public Dictionary<string, JsonElement>? ExposedPorts { get; init; }
    [JsonPropertyName("Env")] public List<string>? Env { get; init; }
    [JsonPropertyName("Entrypoint")] public List<string>? Entrypoint { get; init; }
    [JsonPropertyName("Cmd")] public List<string>? Cmd { get; init; }
    [JsonPropertyName("Volumes")] public Dictionary<string, JsonElement>? Volumes { get; init; }
    [JsonPropertyName("WorkingDir")] public string? WorkingDir { get; init; }
    [JsonPropertyName("Labels")] public Dictionary<string, string>? Labels { get; init; }
    [JsonPropertyName("StopSignal")] public string? StopSignal { get; init; }
    [JsonPropertyName("Healthcheck")] public HealthConfig? Healthcheck { get; init; }
    /// <summary>docker's SHELL: what shell-form commands (a health check's CMD-SHELL) run through; /bin/sh -c when unset.</summary>
    [JsonPropertyName("Shell")] public List<string>? Shell { get; init; }
    /// <summary>docker's ONBUILD triggers: Dockerfile instructions a build FROM this image runs first.</summary>
    [JsonPropertyName("OnBuild")] public List<string>? OnBuild { get; init; }
}

/// <summary>
/// docker's HEALTHCHECK, which its image config adds to OCI's: Test is ["NONE"], ["CMD", ARG...] or
/// ["CMD-SHELL", COMMAND]; durations are nanoseconds. A zero means "not set": the image's value (for a container's
/// settings), then docker's default. Zeros are left out of the JSON, as docker's omitempty does.
/// </summary>
public sealed record HealthConfig
{
    [JsonPropertyName("Test")] public List<string>? Test { get; init; }
    [JsonPropertyName("Interval"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Interval { get; init; }
    [JsonPropertyName("Timeout"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Timeout { get; init; }
    [JsonPropertyName("StartPeriod"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long StartPeriod { get; init; }
    [JsonPropertyName("StartInterval"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long StartInterval { get; init; }
    [JsonPropertyName("Retries"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public int Retries { get; init; }
}

public sealed record ImageRootFs
{
    [JsonPropertyName("type")] public string Type { get; init; } = "layers";

    [JsonPropertyName("diff_ids")]
    public List<string> DiffIds { get; init; } = [];
}

public sealed record ImageHistory
{
    [JsonPropertyName("created")] public DateTimeOffset? Created { get; init; }
    [JsonPropertyName("created_by")] public string? CreatedBy { get; init; }
    [JsonPropertyName("author")] public string? Author { get; init; }
    [JsonPropertyName("comment")] public string? Comment { get; init; }
    [JsonPropertyName("empty_layer")] public bool? EmptyLayer { get; init; }
}
