using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Skiff.Images.Tests.Registry;

/// <summary>
/// The reference registry (Debian's docker-registry, distribution 2.8) as a child process bound to 127.0.0.1 on a free
/// port, with a temporary config and storage directory; optionally with htpasswd basic auth. Dispose kills it and
/// removes the directory.
/// </summary>
internal sealed class RegistryProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RegistryProcess(string directory, int port, Process process)
    {
        Directory = directory;
        Port = port;
        _process = process;
    }

    public string Directory { get; }
    public int Port { get; }
    public string Host => $"127.0.0.1:{Port}";
    public Uri BaseUri => new($"http://{Host}/");
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>
    /// Starts a registry; with <paramref name="htpasswdUser"/> it requires that user (htpasswd basic auth), with
    /// <paramref name="authConfig"/> the YAML <c>auth:</c> section it returns (given the temporary directory) is used.
    /// </summary>
    public static async Task<RegistryProcess> StartAsync(string? htpasswdUser = null, string? htpasswdPassword = null, Func<string, string>? authConfig = null)
    {
        string binary = FindBinary("docker-registry")
            ?? throw new InvalidOperationException("docker-registry is not installed (apt-get install docker-registry; `make test` does it)");
        string directory = System.IO.Directory.CreateTempSubdirectory("skiff-registry-test-").FullName;
        Process? process = null;
        try
        {
            string auth = "";
            if (htpasswdUser is not null)
            {
                string htpasswd = Path.Combine(directory, "htpasswd");
                File.WriteAllText(htpasswd, await HtpasswdAsync(htpasswdUser, htpasswdPassword!));
                auth = $"auth:\n  htpasswd:\n    realm: skiff-test\n    path: {htpasswd}\n";
            }
            if (authConfig is not null)
                auth = authConfig(directory);
            for (int tries = 0; ; tries++)
            {
                int port = FreePort();
                string config = Path.Combine(directory, "config.yml");
                File.WriteAllText(config, $"""
                    version: 0.1
                    log:
                      level: warn
                      accesslog:
                        disabled: true
                    storage:
                      filesystem:
                        rootdirectory: {Path.Combine(directory, "data")}
                      delete:
                        enabled: true
                    http:
                      addr: 127.0.0.1:{port}
                      secret: skiff-test-secret
                    {auth}
                    """);
                var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add("serve");
                start.ArgumentList.Add(config);
                process = Process.Start(start)!;
                var registry = new RegistryProcess(directory, port, process);
                process.OutputDataReceived += (_, e) => registry.Append(e.Data);
                process.ErrorDataReceived += (_, e) => registry.Append(e.Data);
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                if (await registry.WaitReadyAsync())
                    return registry;
                string output = registry.Output;
                registry.Stop();
                process = null;
                // Another process may have taken the port between our probe and the registry's bind: try another.
                if (tries >= 2 || !output.Contains("address already in use"))
                    throw new InvalidOperationException($"docker-registry did not start on {port}: {output}");
            }
        }
        catch
        {
            process?.Kill();
            process?.WaitForExit();
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        Stop();
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
    }

    private void Stop()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    private async Task<bool> WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                return false;
            try
            {
                using var response = await http.GetAsync(new Uri(BaseUri, "v2/"));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                    return true;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(50);
        }
        return false;
    }

    /// <summary>A bcrypt htpasswd line from apache2-utils' htpasswd (the registry accepts only bcrypt).</summary>
    private static async Task<string> HtpasswdAsync(string user, string password)
    {
        string binary = FindBinary("htpasswd")
            ?? throw new InvalidOperationException("htpasswd is not installed (apt-get install apache2-utils; `make test` does it)");
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { "-nbB", user, password })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"htpasswd failed: {error}");
        return output.Trim() + "\n";
    }

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string? FindBinary(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':')
            .Concat(["/usr/sbin", "/sbin"])
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
