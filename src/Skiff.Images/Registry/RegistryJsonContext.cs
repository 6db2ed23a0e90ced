using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skiff.Images.Registry;

/// <summary>Docker's <c>config.json</c>, and podman's <c>auth.json</c> (a subset of it). Whatever else the file holds
/// (<c>psFormat</c>, <c>proxies</c>, ...) is kept when skiff rewrites it.</summary>
internal sealed class DockerConfigFile
{
    [JsonPropertyName("auths")]
    public Dictionary<string, DockerAuthEntry>? Auths { get; set; }

    [JsonPropertyName("credHelpers")]
    public Dictionary<string, string>? CredHelpers { get; set; }

    [JsonPropertyName("credsStore")]
    public string? CredsStore { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

internal sealed class DockerAuthEntry
{
    [JsonPropertyName("auth")] public string? Auth { get; set; }
    [JsonPropertyName("username")] public string? Username { get; set; }
    [JsonPropertyName("password")] public string? Password { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

/// <summary>What a docker credential helper reads on <c>store</c> and writes on <c>get</c>.</summary>
internal sealed class CredentialHelperPayload
{
    [JsonPropertyName("ServerURL")] public string? ServerUrl { get; set; }
    [JsonPropertyName("Username")] public string? Username { get; set; }
    [JsonPropertyName("Secret")] public string? Secret { get; set; }
}

/// <summary>The token endpoint's answer (docker token spec): <c>token</c> or <c>access_token</c>, lifetime in seconds.</summary>
internal sealed class TokenResponse
{
    [JsonPropertyName("token")] public string? Token { get; set; }
    [JsonPropertyName("access_token")] public string? AccessToken { get; set; }
    [JsonPropertyName("expires_in")] public int? ExpiresIn { get; set; }
}

/// <summary>The distribution-spec error body: <c>{"errors":[{"code":"...","message":"..."}]}</c>.</summary>
internal sealed class ErrorResponse
{
    [JsonPropertyName("errors")] public List<ErrorEntry>? Errors { get; set; }
}

internal sealed class ErrorEntry
{
    [JsonPropertyName("code")] public string? Code { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
}

[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(DockerConfigFile))]
[JsonSerializable(typeof(CredentialHelperPayload))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class RegistryJsonContext : JsonSerializerContext;
