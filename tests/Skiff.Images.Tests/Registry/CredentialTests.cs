using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Skiff.Images.References;
using Skiff.Images.Registry;
using Skiff.Storage.Content;

namespace Skiff.Images.Tests.Registry;

/// <summary>Credential files (docker config.json, containers auth.json), credential helpers, login and logout.</summary>
public sealed class CredentialTests
{
    private static string Auth(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private static Func<string, string?> Environment(Dictionary<string, string> variables) => name => variables.GetValueOrDefault(name);

    /// <summary>
    /// A docker credential helper named <c>skifftest</c> in <paramref name="directory"/>: it keeps what it is given in
    /// files next to itself, logs every call, and answers as the real helpers do (including "credentials not found").
    /// </summary>
    private static Dictionary<string, string> WithHelper(string directory)
    {
        string script = Path.Combine(directory, "docker-credential-skifftest");
        File.WriteAllText(script, """
            #!/usr/bin/python3
            import base64, json, os, sys
            store = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helper-store")
            os.makedirs(store, exist_ok=True)
            verb, data = sys.argv[1], sys.stdin.read()
            server = json.loads(data)["ServerURL"] if verb == "store" else data.strip()
            with open(os.path.join(store, "log"), "a") as log:
                log.write(verb + " " + server + "\n")
            if server == "broken.example":
                sys.stderr.write("the keychain is locked\n")
                sys.exit(1)
            path = os.path.join(store, base64.urlsafe_b64encode(server.encode()).decode())
            if verb == "store":
                open(path, "w").write(data)
            elif not os.path.exists(path):
                print("credentials not found in native keychain")
                sys.exit(1)
            elif verb == "get":
                sys.stdout.write(open(path).read())
            else:
                os.remove(path)
            """);
        using (var chmod = Process.Start("chmod", ["+x", script]))
            chmod.WaitForExit();
        return new Dictionary<string, string> { ["PATH"] = directory + ":/usr/bin:/bin", ["HOME"] = directory };
    }

    private static string HelperLog(string directory) => File.ReadAllText(Path.Combine(directory, "helper-store", "log"));

    [Fact]
    public void DockerConfigAuthsAndCredentialHelpers()
    {
        using var directory = new TempDir();
        var environment = WithHelper(directory.Path);
        string path = Path.Combine(directory.Path, "config.json");
        File.WriteAllText(path, $$$"""
            {"auths":{"https://index.docker.io/v1/":{"auth":"{{{Auth("me", "pa:ss")}}}"},
                      "helped.example:5000":{},
                      "quay.io/org":{"auth":"{{{Auth("org", "x")}}}"}},
             "credHelpers":{"helped.example:5000":"skifftest","broken.example":"skifftest","gone.example":"absent"}}
            """);
        var credentials = new DockerConfigCredentials(path, Environment(environment));

        Assert.Equal(new RegistryCredential("me", "pa:ss"), credentials.Find("docker.io"));
        // A key naming a repository is not the registry's.
        Assert.Null(credentials.Find("quay.io"));
        // The helper's registry: nothing stored yet, then what was stored through the file, which itself is unchanged.
        Assert.Null(credentials.Find("helped.example:5000"));
        string before = File.ReadAllText(path);
        credentials.Store("helped.example:5000", new RegistryCredential("robot", "s3cret"));
        Assert.Equal(before, File.ReadAllText(path));
        Assert.Equal(new RegistryCredential("robot", "s3cret"), credentials.Find("helped.example:5000"));
        Assert.Equal("get helped.example:5000\nstore helped.example:5000\nget helped.example:5000\n", HelperLog(directory.Path));
        Assert.True(credentials.Remove("helped.example:5000"));
        Assert.Null(credentials.Find("helped.example:5000"));
        Assert.False(credentials.Remove("helped.example:5000"));

        var broken = Assert.Throws<RegistryException>(() => credentials.Find("broken.example"));
        Assert.Equal("docker-credential-skifftest get broken.example failed: the keychain is locked", broken.Message);
        var absent = Assert.Throws<RegistryException>(() => credentials.Find("gone.example"));
        Assert.StartsWith("docker-credential-absent: not found in PATH", absent.Message);
    }

    [Fact]
    public void CredsStoreHoldsEveryRegistryAndDockerHubUnderItsV1Url()
    {
        using var directory = new TempDir();
        var environment = WithHelper(directory.Path);
        string path = Path.Combine(directory.Path, "config.json");
        File.WriteAllText(path, $$$"""{"auths":{"x.example":{"auth":"{{{Auth("stale", "entry")}}}"}},"credsStore":"skifftest"}""");
        var credentials = new DockerConfigCredentials(path, Environment(environment));

        // With a store, docker reads only the store: the auths entry is a placeholder.
        Assert.Null(credentials.Find("x.example"));
        // docker login keeps Docker Hub's credentials under https://index.docker.io/v1/.
        CredentialHelper.Store("skifftest", "https://index.docker.io/v1/", new RegistryCredential("hub", "pw"), Environment(environment));
        Assert.Equal(new RegistryCredential("hub", "pw"), credentials.Find("docker.io"));
    }

    [Fact]
    public void StoreKeepsTheRestOfTheFileAndWritesItPrivately()
    {
        using var directory = new TempDir();
        string path = Path.Combine(directory.Path, "nested", "auth.json");
        var credentials = new DockerConfigCredentials(path, Environment([]));
        credentials.Store("127.0.0.1:5000", new RegistryCredential("first", "one"));
        Assert.Equal(0x180u, FileStatus.Of(path)!.Permissions);
        Assert.Equal(0x1c0u, FileStatus.Of(Path.GetDirectoryName(path)!)!.Permissions);

        File.WriteAllText(path, $$$"""
            {"auths":{"http://127.0.0.1:5000/v2/":{"auth":"{{{Auth("old", "x")}}}"},
                      "quay.io":{"auth":"{{{Auth("q", "w")}}}","email":"q@example.com"}},
             "psFormat":"table {{.ID}}","proxies":{"default":{"httpProxy":"http://proxy:3128"} }}
            """);
        credentials.Store("127.0.0.1:5000", new RegistryCredential("new", "pw"));

        Assert.Equal(new RegistryCredential("new", "pw"), credentials.Find("127.0.0.1:5000"));
        using (var document = JsonDocument.Parse(File.ReadAllText(path)))
        {
            var root = document.RootElement;
            Assert.Equal("table {{.ID}}", root.GetProperty("psFormat").GetString());
            Assert.Equal("http://proxy:3128", root.GetProperty("proxies").GetProperty("default").GetProperty("httpProxy").GetString());
            Assert.Equal("q@example.com", root.GetProperty("auths").GetProperty("quay.io").GetProperty("email").GetString());
            // The URL-form key of the same registry was replaced, not kept beside the new one.
            Assert.Equal(["127.0.0.1:5000", "quay.io"], root.GetProperty("auths").EnumerateObject().Select(entry => entry.Name).Order());
        }
        Assert.True(credentials.Remove("127.0.0.1:5000"));
        Assert.Null(credentials.Find("127.0.0.1:5000"));
        Assert.Equal(new RegistryCredential("q", "w"), credentials.Find("quay.io"));
        Assert.False(credentials.Remove("127.0.0.1:5000"));
        Assert.Equal(["auth.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));

        // A full disk or a read-only directory: a clear error, the file as it was and no temporary file beside it.
        string before = File.ReadAllText(path);
        using (var full = Process.Start("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", Path.GetDirectoryName(path)!]))
            full.WaitForExit();
        try
        {
            var fullCredentials = new DockerConfigCredentials(path, Environment([]));
            fullCredentials.Store("127.0.0.1:5000", new RegistryCredential("filler", "pw"));
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(path)!, "filler"), new string('x', 3 * 4096));
            before = File.ReadAllText(path);
            var writeError = Assert.Throws<RegistryException>(() => fullCredentials.Store("another.example", new RegistryCredential("u", new string('p', 8192))));
            Assert.StartsWith($"{path}: cannot write credentials:", writeError.Message);
            Assert.Equal(before, File.ReadAllText(path));
            Assert.Equal(["auth.json", "filler"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Order());
        }
        finally
        {
            using var unmount = Process.Start("umount", [Path.GetDirectoryName(path)!]);
            unmount.WaitForExit();
        }

        File.WriteAllText(path, "{not json");
        var error = Assert.Throws<RegistryException>(() => credentials.Find("quay.io"));
        Assert.StartsWith($"{path}: not a valid credentials file", error.Message);
    }

    [Fact]
    public void LooksUpAuthFilesInPodmansOrder()
    {
        using var directory = new TempDir();
        string runtime = Path.Combine(directory.Path, "runtime");
        string config = Path.Combine(directory.Path, "config");
        string home = Path.Combine(directory.Path, "home");
        var variables = new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = runtime, ["XDG_CONFIG_HOME"] = config, ["HOME"] = home };
        var store = new CredentialStore(environment: Environment(variables));
        Assert.Equal([Path.Combine(runtime, "containers", "auth.json"), Path.Combine(config, "containers", "auth.json"), Path.Combine(home, ".docker", "config.json")],
            store.SearchPaths);
        Assert.Equal(store.SearchPaths[0], store.WritePath);

        void Write(string path, string registry, string user)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string existing = File.Exists(path) ? File.ReadAllText(path) : """{"auths":{}}""";
            var auths = JsonDocument.Parse(existing).RootElement.GetProperty("auths").EnumerateObject().Select(entry => $"\"{entry.Name}\":{entry.Value.GetRawText()}");
            File.WriteAllText(path, "{\"auths\":{" + string.Join(",", auths.Append($"\"{registry}\":{{\"auth\":\"{Auth(user, "pw")}\"}}")) + "}}");
        }
        Write(store.SearchPaths[2], "everywhere.example", "docker");
        Write(store.SearchPaths[2], "docker-only.example", "docker");
        Assert.Equal("docker", store.Find("everywhere.example")?.Username);
        Write(store.SearchPaths[1], "everywhere.example", "config");
        Assert.Equal("config", store.Find("everywhere.example")?.Username);
        Write(store.SearchPaths[0], "everywhere.example", "runtime");
        Assert.Equal("runtime", store.Find("everywhere.example")?.Username);
        Assert.Equal("docker", store.Find("docker-only.example")?.Username);
        Assert.Null(store.Find("nowhere.example"));

        // DOCKER_CONFIG moves docker's file; without XDG_RUNTIME_DIR the first file is /run/containers/UID.
        variables.Remove("XDG_RUNTIME_DIR");
        variables["DOCKER_CONFIG"] = Path.Combine(directory.Path, "dockercfg");
        var root = new CredentialStore(environment: Environment(variables));
        Assert.Equal($"/run/containers/{Skiff.Interop.Interop.Libc.GetEuid()}/auth.json", root.WritePath);
        Assert.Equal(Path.Combine(directory.Path, "dockercfg", "config.json"), root.SearchPaths[2]);

        // An auth file given (REGISTRY_AUTH_FILE, or --authfile over it) is the only file.
        variables["REGISTRY_AUTH_FILE"] = store.SearchPaths[1];
        Assert.Equal([store.SearchPaths[1]], new CredentialStore(environment: Environment(variables)).SearchPaths);
        var given = new CredentialStore(store.SearchPaths[2], Environment(variables));
        Assert.Equal([store.SearchPaths[2]], given.SearchPaths);
        Assert.Equal("docker", given.Find("everywhere.example")?.Username);
    }

    [Fact]
    public async Task LoginChecksTheCredentialsStoresThemAndLogoutRemovesThem()
    {
        using var registry = await RegistryProcess.StartAsync("skiff", "right pass");
        using var directory = new TempDir();
        string authFile = Path.Combine(directory.Path, "auth", "auth.json");
        var credentials = new CredentialStore(authFile, Environment([]));
        var options = new RegistryOptions { InsecureRegistries = [registry.Host], Credentials = credentials, RetryDelay = TimeSpan.FromMilliseconds(10) };

        var wrong = await Assert.ThrowsAsync<RegistryException>(() => credentials.LoginAsync(registry.Host, new RegistryCredential("skiff", "wrong"), options));
        Assert.Equal($"login {registry.Host}: the registry refused the user name skiff or its password", wrong.Message);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.False(Directory.Exists(Path.GetDirectoryName(authFile)));

        await credentials.LoginAsync($"http://{registry.Host}/v2/", new RegistryCredential("skiff", "right pass"), options);
        Assert.Equal(new RegistryCredential("skiff", "right pass"), credentials.Find(registry.Host));

        // What login stored is what a push and a pull use.
        var image = TestImage.Create(layers: 1, randomBytes: 1000);
        var store = new ContentStore(Path.Combine(directory.Path, "store"));
        image.AddTo(store);
        var reference = ImageReference.Parse($"{registry.Host}/logged/in:1");
        using (var pusher = new ImagePusher(options))
            await pusher.PushAsync(store, image.ManifestDigest, reference);
        using (var puller = new ImagePuller(options))
            Assert.Equal(image.ManifestDigest, (await puller.PullAsync(reference, null, new ContentStore(Path.Combine(directory.Path, "pulled")))).ManifestDigest);

        Assert.True(credentials.Logout(registry.Host));
        Assert.Null(credentials.Find(registry.Host));
        Assert.False(credentials.Logout(registry.Host));
        var invalid = Assert.Throws<RegistryException>(() => credentials.Logout("quay.io/some/repo"));
        Assert.StartsWith("\"quay.io/some/repo\" is not a registry", invalid.Message);
    }

    [Fact]
    public async Task LoginThroughTheTokenEndpoint()
    {
        using var issuer = new TokenIssuer("robot", "token-pw");
        using var registry = await RegistryProcess.StartAsync(authConfig: issuer.AuthConfig);
        using var directory = new TempDir();
        string authFile = Path.Combine(directory.Path, "auth.json");
        var credentials = new CredentialStore(authFile, Environment([]));
        var options = new RegistryOptions { InsecureRegistries = [registry.Host] };

        var wrong = await Assert.ThrowsAsync<RegistryException>(() => credentials.LoginAsync(registry.Host, new RegistryCredential("robot", "nope"), options));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.False(File.Exists(authFile));

        await credentials.LoginAsync(registry.Host, new RegistryCredential("robot", "token-pw"), options);
        Assert.Equal(new RegistryCredential("robot", "token-pw"), credentials.Find(registry.Host));
        Assert.Equal(1, issuer.Issued);
    }
}
