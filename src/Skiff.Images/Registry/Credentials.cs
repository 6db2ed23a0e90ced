using System.Text;
using System.Text.Json;

namespace Skiff.Images.Registry;

/// <summary>A user name and password (or token used as password) for one registry.</summary>
public sealed record RegistryCredential(string Username, string Password)
{
    public override string ToString() => $"{Username}:***";
}

/// <summary>Finds the credentials for a registry, named as in references (<c>docker.io</c>, <c>localhost:5000</c>).</summary>
public interface ICredentialSource
{
    RegistryCredential? Find(string registry);
}

/// <summary>Credentials given directly, per registry (e.g. <c>--creds</c>, tests).</summary>
public sealed class StaticCredentials(IReadOnlyDictionary<string, RegistryCredential> credentials) : ICredentialSource
{
    public RegistryCredential? Find(string registry) => credentials.GetValueOrDefault(registry);
}

/// <summary>
/// The <c>auths</c> of docker's <c>config.json</c> (default <c>$DOCKER_CONFIG/config.json</c> or <c>~/.docker/config.json</c>):
/// each entry's base64 <c>auth</c> (<c>user:password</c>) or its <c>username</c>/<c>password</c>. Keys may be a bare host
/// or a URL (<c>https://index.docker.io/v1/</c>); Docker Hub's aliases all mean <c>docker.io</c>. Credential helpers
/// (<c>credsStore</c>, <c>credHelpers</c>) are not consulted.
/// </summary>
public sealed class DockerConfigCredentials : ICredentialSource
{
    private readonly string _path;

    public DockerConfigCredentials(string? path = null)
    {
        _path = path ?? DefaultPath();
    }

    public static string DefaultPath()
    {
        string? directory = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(directory))
            directory = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        return Path.Combine(directory, "config.json");
    }

    public RegistryCredential? Find(string registry)
    {
        if (!File.Exists(_path))
            return null;
        DockerConfigFile? config;
        try
        {
            config = JsonSerializer.Deserialize(File.ReadAllBytes(_path), RegistryJsonContext.Default.DockerConfigFile);
        }
        catch (JsonException error)
        {
            throw new RegistryException($"{_path}: not a valid docker config file: {error.Message}", error);
        }
        if (config?.Auths is null)
            return null;
        string wanted = NormalizeHost(registry);
        foreach (var (key, entry) in config.Auths)
        {
            if (NormalizeHost(key) != wanted)
                continue;
            if (!string.IsNullOrEmpty(entry.Auth))
            {
                string decoded;
                try
                {
                    decoded = Encoding.UTF8.GetString(Convert.FromBase64String(entry.Auth));
                }
                catch (FormatException error)
                {
                    throw new RegistryException($"{_path}: the auth of \"{key}\" is not base64", error);
                }
                int colon = decoded.IndexOf(':');
                if (colon <= 0)
                    throw new RegistryException($"{_path}: the auth of \"{key}\" is not user:password");
                return new RegistryCredential(decoded[..colon], decoded[(colon + 1)..]);
            }
            if (!string.IsNullOrEmpty(entry.Username) && entry.Password is not null)
                return new RegistryCredential(entry.Username, entry.Password);
        }
        return null;
    }

    /// <summary><c>https://index.docker.io/v1/</c> → <c>docker.io</c>, <c>http://host:5000/x</c> → <c>host:5000</c>.</summary>
    internal static string NormalizeHost(string key)
    {
        string host = key;
        int scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
            host = host[(scheme + 3)..];
        int slash = host.IndexOf('/');
        if (slash >= 0)
            host = host[..slash];
        host = host.ToLowerInvariant();
        return host is "index.docker.io" or "registry-1.docker.io" or "registry.hub.docker.com" ? "docker.io" : host;
    }
}
