using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Skiff.Interop;

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
/// One credentials file in docker's <c>config.json</c> format, which podman's <c>auth.json</c> shares. For a registry
/// named in <c>credHelpers</c>, or for every registry when <c>credsStore</c> is set, the credentials live in that
/// helper (<c>docker-credential-NAME get|store|erase</c>, the server on stdin, JSON on stdout) and nowhere else, as
/// docker does; otherwise in <c>auths</c>: an entry's base64 <c>auth</c> (<c>user:password</c>) or its
/// <c>username</c>/<c>password</c>. Keys may be a host or a URL (<c>https://index.docker.io/v1/</c>); Docker Hub's
/// aliases all mean <c>docker.io</c>. Keys naming a repository (<c>quay.io/org</c>) are not used.
/// </summary>
public sealed class DockerConfigCredentials : ICredentialSource
{
    private const string DockerHubServer = "https://index.docker.io/v1/";
    private readonly Func<string, string?> _environment;

    /// <param name="path">The file; default <see cref="DefaultPath"/>.</param>
    /// <param name="environment">Where <c>PATH</c> (to find helpers), <c>HOME</c> and <c>DOCKER_CONFIG</c> are read; default the process's.</param>
    public DockerConfigCredentials(string? path = null, Func<string, string?>? environment = null)
    {
        _environment = environment ?? Environment.GetEnvironmentVariable;
        Path = path ?? DefaultPath(_environment);
    }

    public string Path { get; }

    /// <summary><c>$DOCKER_CONFIG/config.json</c>, else <c>~/.docker/config.json</c>.</summary>
    public static string DefaultPath(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string? directory = environment("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(directory))
            directory = System.IO.Path.Combine(HomeDirectory(environment), ".docker");
        return System.IO.Path.Combine(directory, "config.json");
    }

    internal static string HomeDirectory(Func<string, string?> environment)
        => environment("HOME") is { Length: > 0 } home ? home : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    public RegistryCredential? Find(string registry)
    {
        var config = Load();
        if (config is null)
            return null;
        string wanted = NormalizeHost(registry);
        if (HelperFor(config, wanted) is { } helper)
        {
            // docker keeps Docker Hub's credentials under its v1 URL, podman under docker.io.
            return CredentialHelper.Get(helper, wanted, _environment)
                ?? (wanted == "docker.io" ? CredentialHelper.Get(helper, DockerHubServer, _environment) : null);
        }
        foreach (var (key, entry) in config.Auths ?? [])
        {
            if (NormalizeHost(key) != wanted)
                continue;
            if (!string.IsNullOrEmpty(entry.Auth))
                return DecodeAuth(entry.Auth, key);
            if (!string.IsNullOrEmpty(entry.Username) && entry.Password is not null)
                return new RegistryCredential(entry.Username, entry.Password);
        }
        return null;
    }

    /// <summary>
    /// Saves <paramref name="credential"/> for <paramref name="registry"/>: in the file's helper when it names one
    /// for the registry, else as the registry's <c>auths</c> entry (replacing any other key for the same host). The
    /// file is replaced atomically, mode 0600, everything else in it kept; its directory is created (0700) if needed.
    /// </summary>
    public void Store(string registry, RegistryCredential credential)
    {
        var config = Load() ?? new DockerConfigFile();
        string host = NormalizeHost(registry);
        if (HelperFor(config, host) is { } helper)
        {
            CredentialHelper.Store(helper, host, credential, _environment);
            return;
        }
        config.Auths ??= [];
        RemoveKeys(config, host);
        config.Auths[host] = new DockerAuthEntry { Auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")) };
        Save(config);
    }

    /// <summary>Removes the credentials of <paramref name="registry"/> (from its helper, or from <c>auths</c>); false when there were none.</summary>
    public bool Remove(string registry)
    {
        var config = Load();
        if (config is null)
            return false;
        string host = NormalizeHost(registry);
        if (HelperFor(config, host) is { } helper)
            return CredentialHelper.Erase(helper, host, _environment);
        if (!RemoveKeys(config, host))
            return false;
        Save(config);
        return true;
    }

    /// <summary>
    /// <c>https://index.docker.io/v1/</c> → <c>docker.io</c>, <c>http://host:5000/v2/</c> → <c>host:5000</c>; a key
    /// without a scheme keeps its path (<c>quay.io/org</c>), as containers/image reads auth files.
    /// </summary>
    internal static string NormalizeHost(string key)
    {
        string host = key;
        int scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
            int slash = host.IndexOf('/');
            if (slash >= 0)
                host = host[..slash];
        }
        host = host.ToLowerInvariant();
        return host is "index.docker.io" or "registry-1.docker.io" or "registry.hub.docker.com" ? "docker.io" : host;
    }

    /// <summary>
    /// The helper holding <paramref name="host"/>'s credentials: its <c>credHelpers</c> entry, else <c>credsStore</c>
    /// when that helper is installed. A <c>credsStore</c> whose helper is missing (a config.json copied from Docker
    /// Desktop names "desktop") is passed over for <c>auths</c>, as podman does, rather than failing every pull.
    /// </summary>
    private string? HelperFor(DockerConfigFile config, string host)
    {
        foreach (var (key, helper) in config.CredHelpers ?? [])
        {
            if (NormalizeHost(key) == host && !string.IsNullOrEmpty(helper))
                return helper;
        }
        return !string.IsNullOrEmpty(config.CredsStore) && CredentialHelper.Locate(config.CredsStore, _environment) is not null ? config.CredsStore : null;
    }

    private static bool RemoveKeys(DockerConfigFile config, string host)
    {
        var keys = (config.Auths ?? []).Keys.Where(key => NormalizeHost(key) == host).ToList();
        foreach (string key in keys)
            config.Auths!.Remove(key);
        return keys.Count > 0;
    }

    private RegistryCredential DecodeAuth(string auth, string key)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
        }
        catch (FormatException error)
        {
            throw new RegistryException(ErrorKind.InvalidArgument, $"{Path}: the auth of \"{key}\" is not base64", error);
        }
        int colon = decoded.IndexOf(':');
        if (colon <= 0)
            throw new RegistryException(ErrorKind.InvalidArgument, $"{Path}: the auth of \"{key}\" is not user:password");
        return new RegistryCredential(decoded[..colon], decoded[(colon + 1)..]);
    }

    /// <summary>The file's content; null when it does not exist.</summary>
    private DockerConfigFile? Load()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RegistryException($"{Path}: cannot read credentials: {error.Message}", error);
        }
        if (bytes.Length == 0)
            return new DockerConfigFile();
        try
        {
            return JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.DockerConfigFile) ?? new DockerConfigFile();
        }
        catch (JsonException error)
        {
            throw new RegistryException(ErrorKind.InvalidArgument, $"{Path}: not a valid credentials file (docker config.json / containers auth.json): {error.Message}", error);
        }
    }

    /// <summary>Writes a temporary file next to the real one and renames it over it, so readers never see half a file.</summary>
    private void Save(DockerConfigFile config)
    {
        // The file holds secrets: it is created 0600, a mode Windows has no notion of (Skiff is Linux-only anyway).
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("credential files are written with Unix modes");
        // Through a symlink (dotfile managers), the file it points to is replaced, not the link.
        var file = new FileInfo(Path);
        string path = file.Exists && file.LinkTarget is not null ? file.ResolveLinkTarget(returnFinalTarget: true)!.FullName : Path;
        string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        string temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                JsonSerializer.Serialize(stream, config, RegistryJsonContext.Default.DockerConfigFile);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
            throw new RegistryException($"{path}: cannot write credentials: {error.Message}", error);
        }
    }
}

/// <summary>
/// Registry credentials where podman, skopeo and buildah look for them (containers-auth.json(5)), and docker's after:
/// with an auth file given (<c>--authfile</c>, else <c>$REGISTRY_AUTH_FILE</c>) only that file; otherwise
/// <c>$XDG_RUNTIME_DIR/containers/auth.json</c> (without <c>XDG_RUNTIME_DIR</c>: <c>/run/containers/UID/auth.json</c>,
/// so <c>/run/containers/0/auth.json</c> for root), then <c>$XDG_CONFIG_HOME/containers/auth.json</c> (default
/// <c>~/.config</c>), then docker's <c>config.json</c>. The first file with credentials for the registry wins.
/// </summary>
/// <remarks>
/// <see cref="LoginAsync"/> writes, and <see cref="Logout"/> removes from, the first of these files, as
/// <c>podman login</c> does: a login with skiff works for podman, skopeo and buildah and theirs for skiff, while
/// docker's file is only read, because it belongs to docker (and often to a credential helper it configures). For
/// root without <c>XDG_RUNTIME_DIR</c> that file is on the <c>/run</c> tmpfs: credentials do not outlive a reboot,
/// podman's deliberate choice; <c>--authfile</c> (or <c>REGISTRY_AUTH_FILE</c>) keeps them elsewhere.
/// </remarks>
public sealed class CredentialStore : ICredentialSource
{
    private readonly DockerConfigCredentials[] _files;

    /// <param name="authFile">The one file to use (<c>--authfile</c>); null: <c>$REGISTRY_AUTH_FILE</c>, else the search order.</param>
    /// <param name="environment">Where environment variables are read; default the process's.</param>
    public CredentialStore(string? authFile = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (string.IsNullOrEmpty(authFile))
            authFile = environment("REGISTRY_AUTH_FILE");
        if (!string.IsNullOrEmpty(authFile))
        {
            SearchPaths = [Path.GetFullPath(authFile)];
        }
        else
        {
            string? runtimeDirectory = environment("XDG_RUNTIME_DIR");
            string primary = string.IsNullOrEmpty(runtimeDirectory)
                ? $"/run/containers/{Interop.Interop.Libc.GetEuid()}/auth.json"
                : Path.Combine(runtimeDirectory, "containers", "auth.json");
            string? configHome = environment("XDG_CONFIG_HOME");
            if (string.IsNullOrEmpty(configHome))
                configHome = Path.Combine(DockerConfigCredentials.HomeDirectory(environment), ".config");
            SearchPaths = [primary, Path.Combine(configHome, "containers", "auth.json"), DockerConfigCredentials.DefaultPath(environment)];
        }
        _files = SearchPaths.Select(path => new DockerConfigCredentials(path, environment)).ToArray();
    }

    /// <summary>The files read, in order; the first is the one login and logout change.</summary>
    public IReadOnlyList<string> SearchPaths { get; }

    public string WritePath => SearchPaths[0];

    public RegistryCredential? Find(string registry)
    {
        foreach (var file in _files)
        {
            if (file.Find(registry) is { } credential)
                return credential;
        }
        return null;
    }

    /// <summary>
    /// Checks <paramref name="credential"/> against <paramref name="registry"/> (a host, or a URL as docker writes
    /// them) with <c>GET /v2/</c> and the authentication it asks for, then saves it in <see cref="WritePath"/>.
    /// Refused credentials are a <see cref="RegistryException"/> with status 401 and nothing is saved.
    /// <paramref name="options"/> says how to reach the registry (its <see cref="RegistryOptions.Credentials"/> are not used).
    /// </summary>
    public async Task LoginAsync(string registry, RegistryCredential credential, RegistryOptions? options = null, CancellationToken cancellationToken = default)
    {
        string host = RegistryHost(registry);
        var verifying = (options ?? new RegistryOptions()) with
        {
            Credentials = new StaticCredentials(new Dictionary<string, RegistryCredential> { [host] = credential }),
        };
        using (var client = new RegistryClient(host, verifying))
        {
            try
            {
                await client.PingAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RegistryException error) when (error.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new RegistryException($"login {host}: the registry refused the user name {credential.Username} or its password", HttpStatusCode.Unauthorized, error);
            }
        }
        _files[0].Store(host, credential);
    }

    /// <summary>Removes the credentials of <paramref name="registry"/> from <see cref="WritePath"/>; false when it held none.</summary>
    public bool Logout(string registry) => _files[0].Remove(RegistryHost(registry));

    private static string RegistryHost(string registry)
    {
        string host = DockerConfigCredentials.NormalizeHost(registry.Trim());
        if (host.Length == 0 || host.Contains('/'))
            throw new RegistryException(ErrorKind.InvalidArgument, $"\"{registry}\" is not a registry: give its host, with the port if any (e.g. quay.io, localhost:5000)");
        return host;
    }
}

/// <summary>Runs docker credential helpers (<c>docker-credential-NAME</c>, found in <c>PATH</c>): the protocol of docker-credential-helpers.</summary>
internal static class CredentialHelper
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    public static RegistryCredential? Get(string helper, string server, Func<string, string?> environment)
    {
        var (exitCode, output, error) = Run(helper, "get", server, environment);
        if (exitCode != 0)
            return IsNotFound(output, error) ? null : throw Failed(helper, "get", server, output, error);
        CredentialHelperPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize(output, RegistryJsonContext.Default.CredentialHelperPayload);
        }
        catch (JsonException exception)
        {
            throw new RegistryException(ErrorKind.Internal, $"docker-credential-{helper} get {server}: its answer is not valid JSON", exception);
        }
        return payload is { Username.Length: > 0, Secret: not null } ? new RegistryCredential(payload.Username, payload.Secret) : null;
    }

    public static void Store(string helper, string server, RegistryCredential credential, Func<string, string?> environment)
    {
        string input = JsonSerializer.Serialize(
            new CredentialHelperPayload { ServerUrl = server, Username = credential.Username, Secret = credential.Password },
            RegistryJsonContext.Default.CredentialHelperPayload);
        var (exitCode, output, error) = Run(helper, "store", input, environment);
        if (exitCode != 0)
            throw Failed(helper, "store", server, output, error);
    }

    public static bool Erase(string helper, string server, Func<string, string?> environment)
    {
        var (exitCode, output, error) = Run(helper, "erase", server, environment);
        if (exitCode == 0)
            return true;
        return IsNotFound(output, error) ? false : throw Failed(helper, "erase", server, output, error);
    }

    /// <summary>The helpers' own words for "nothing stored for this server" (credentials.NewErrCredentialsNotFound).</summary>
    private static bool IsNotFound(string output, string error)
        => (output + error).Contains("credentials not found", StringComparison.OrdinalIgnoreCase);

    private static RegistryException Failed(string helper, string verb, string server, string output, string error)
    {
        string message = (error.Trim().Length > 0 ? error : output).Trim().ReplaceLineEndings(" ");
        return new RegistryException(ErrorKind.Internal, $"docker-credential-{helper} {verb} {server} failed: {(message.Length > 0 ? message : "no message")}");
    }

    /// <summary>The helper's program, <c>docker-credential-NAME</c> in <c>PATH</c>; null when there is none.</summary>
    public static string? Locate(string helper, Func<string, string?> environment)
        => (environment("PATH") ?? "/usr/local/bin:/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "docker-credential-" + helper))
            .FirstOrDefault(File.Exists);

    private static (int ExitCode, string Output, string Error) Run(string helper, string verb, string input, Func<string, string?> environment)
    {
        string name = "docker-credential-" + helper;
        string binary = Locate(helper, environment)
            ?? throw new RegistryException(ErrorKind.NotFound, $"{name}: not found in PATH (the credentials file names the credential helper \"{helper}\"; install it or remove it from the file)");
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(verb);
        using var process = Process.Start(start) ?? throw new RegistryException(ErrorKind.Internal, $"{binary}: could not be started");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The helper exited without reading its input; its exit code and output say why.
        }
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new RegistryException(ErrorKind.Unavailable, $"{name} {verb}: no answer within {Timeout.TotalSeconds:0} s");
        }
        process.WaitForExit();
        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }
}
