using System.Text.Json.Serialization;

namespace Skiff.Oci;

/// <summary>Container status values (Go: ContainerState constants).</summary>
public static class ContainerState
{
    public const string Creating = "creating";
    public const string Created = "created";
    public const string Running = "running";
    public const string Stopped = "stopped";
}

/// <summary>The runtime state of a container (runtime.md "State"); printed by `state` and passed to hooks on stdin.</summary>
public sealed class State
{
    [JsonPropertyName("ociVersion")] public string Version { get; set; } = "";
    [JsonPropertyName("id")] public string ID { get; set; } = "";
    /// <summary>One of <see cref="ContainerState"/>.</summary>
    [JsonPropertyName("status")] public string Status { get; set; } = "";
    [JsonPropertyName("pid"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public int Pid { get; set; }
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
}

/// <summary>Container process state sent over linux.seccomp.listenerPath together with the seccomp notify fd (fds names it "seccompFd").</summary>
public sealed class ContainerProcessState
{
    [JsonPropertyName("ociVersion")] public string Version { get; set; } = "";
    [JsonPropertyName("fds")] public List<string>? Fds { get; set; }
    [JsonPropertyName("pid")] public int Pid { get; set; }
    [JsonPropertyName("metadata")] public string? Metadata { get; set; }
    [JsonPropertyName("state")] public State State { get; set; } = new();
}
