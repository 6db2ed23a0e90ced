using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Skiff.Network.Cni;

/// <summary>Whether a network's plugins can serve ADD now (STATUS); <see cref="Problem"/> says why not.</summary>
public sealed record CniStatus(bool Ready, CniException? Problem);

/// <summary>
/// Runs a CNI network's plugins for a container, as libcni does for podman and containerd (SPEC.md sections 2 and 3):
/// ADD through the list with each plugin's result as the next one's prevResult, the final result cached on disk; CHECK
/// and DEL with that cached result; STATUS for the network. A failed ADD is undone by a DEL of the whole list, so a
/// container is never left half attached. Plugins are run in the engine's network namespace, as the spec requires.
/// Operations on one attachment must not run concurrently (the spec leaves that to the runtime: the engine's
/// container lock); different attachments may.
/// </summary>
public sealed class CniRunner
{
    /// <summary>Where Debian's containernetworking-plugins and the upstream tarball put the plugins.</summary>
    public static readonly IReadOnlyList<string> DefaultPluginDirectories = ["/usr/lib/cni", "/opt/cni/bin"];

    /// <summary>How long one plugin may run before it is killed and the operation fails.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private readonly CniResultCache _cache;
    private readonly TimeSpan _timeout;

    /// <param name="cacheDirectory">Where results are cached (the engine passes ROOT/cni); made 0700 when missing.</param>
    /// <param name="pluginDirectories">Searched in order for a plugin's program; also the plugins' CNI_PATH.</param>
    /// <param name="timeout">The longest one plugin may run; <see cref="DefaultTimeout"/> when null.</param>
    public CniRunner(string cacheDirectory, IReadOnlyList<string>? pluginDirectories = null, TimeSpan? timeout = null)
    {
        PluginDirectories = pluginDirectories ?? DefaultPluginDirectories;
        if (PluginDirectories.Count == 0)
            throw new CniException(ErrorKind.InvalidArgument, "No directory was given to look for CNI plugins in; give at least one.");
        _timeout = timeout ?? DefaultTimeout;
        try
        {
            Directory.CreateDirectory(cacheDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CniException(ErrorKinds.Of(error), $"The CNI result cache {cacheDirectory} cannot be made: {error.Message.TrimEnd('.')}.", error);
        }
        _cache = new CniResultCache(cacheDirectory);
    }

    public IReadOnlyList<string> PluginDirectories { get; }

    public string CacheDirectory => _cache.Directory;

    /// <summary>
    /// Attaches the container: ADD through every plugin in order. Every plugin is found before any is run; if one then
    /// fails (or the call is cancelled), DEL is run for the whole list before the error is thrown.
    /// </summary>
    /// <returns>The final plugin's result, which is also cached for CHECK and DEL.</returns>
    /// <exception cref="CniException">A plugin is missing (Unavailable), failed, timed out, or returned an invalid result.</exception>
    public async Task<CniResult> AddAsync(CniAttachment attachment, CancellationToken cancellationToken = default)
    {
        attachment.Validate(needsNetns: true);
        var network = attachment.Network;
        string[] programs = network.Plugins.Select(plugin => Find(plugin, network, "ADD")).ToArray();
        JsonObject? result = null;
        try
        {
            for (int index = 0; index < programs.Length; index++)
            {
                result = await InvokeAsync("ADD", network, network.Plugins[index], programs[index], attachment, result, cancellationToken)
                    ?? throw new CniException(ErrorKind.Internal, $"CNI plugin {network.Plugins[index].Type} printed no result for ADD on network {network.Name}; a plugin must print its result.", plugin: network.Plugins[index].Type);
            }
            // InvokeAsync checked every result, so this conversion cannot fail.
            var parsed = CniResult.From(result!);
            _cache.Save(attachment, result!);
            return parsed;
        }
        catch (Exception error) when (error is CniException or OperationCanceledException)
        {
            // Undo whatever the plugins that ran made, even when the caller gave up: a cancelled ADD must not leave a
            // veth or an address behind. Each DEL is still bounded by the timeout.
            var undo = await DeleteAllAsync(attachment, result, CancellationToken.None);
            if (undo is null)
                _cache.Delete(attachment);
            if (error is OperationCanceledException)
                throw;
            if (undo is null)
                throw;
            var failure = (CniException)error;
            throw new CniException(failure.Kind,
                $"{failure.Message} Undoing the ADD failed too, so some of it may remain: {undo.Message}",
                failure, failure.Plugin, failure.Code);
        }
    }

    /// <summary>
    /// Checks the attachment: CHECK through every plugin with the cached ADD result. Does nothing when the network
    /// disables CHECK. A cniVersion older than 0.4.0 has no CHECK (FailedPrecondition); no cached result means no ADD
    /// was made (NotFound).
    /// </summary>
    public async Task CheckAsync(CniAttachment attachment, CancellationToken cancellationToken = default)
    {
        attachment.Validate(needsNetns: true);
        var network = attachment.Network;
        if (!CniVersions.UsesCachedResult(network.CniVersion))
            throw new CniException(ErrorKind.FailedPrecondition, $"Network {network.Name} has cniVersion {network.CniVersion}, which has no CHECK; CHECK needs cniVersion 0.4.0 or later.");
        if (network.DisableCheck)
            return;
        var cached = _cache.Load(attachment)
            ?? throw new CniException(ErrorKind.NotFound, $"Container {attachment.ContainerId} has no cached CNI result for network {network.Name} on interface {attachment.InterfaceName}; it was not attached (ADD) or was detached since.");
        foreach (var plugin in network.Plugins)
            await InvokeAsync("CHECK", network, plugin, Find(plugin, network, "CHECK"), attachment, cached, cancellationToken);
    }

    /// <summary>
    /// Detaches the container: DEL through every plugin in reverse order, with the cached ADD result as prevResult (none
    /// when there is no cache: the spec has plugins accept that, so DEL is idempotent). Unlike ADD, DEL goes on through
    /// the remaining plugins after one fails, to release as much as it can, then throws the first error and keeps the
    /// cached result for a retry.
    /// </summary>
    public async Task DeleteAsync(CniAttachment attachment, CancellationToken cancellationToken = default)
    {
        attachment.Validate(needsNetns: false);
        var cached = CniVersions.UsesCachedResult(attachment.Network.CniVersion) ? _cache.Load(attachment) : null;
        if (await DeleteAllAsync(attachment, cached, cancellationToken) is { } error)
            throw error;
        _cache.Delete(attachment);
    }

    /// <summary>
    /// Whether the network's plugins are ready for ADD: STATUS through every plugin (cniVersion 1.1.0 and later); older
    /// configurations have no STATUS and are ready, as the spec says. The first plugin that is not ready is the problem.
    /// </summary>
    public async Task<CniStatus> StatusAsync(CniConfigList network, CancellationToken cancellationToken = default)
    {
        if (!CniVersions.HasStatus(network.CniVersion))
            return new CniStatus(true, null);
        foreach (var plugin in network.Plugins)
        {
            try
            {
                await InvokeAsync("STATUS", network, plugin, Find(plugin, network, "STATUS"), null, null, cancellationToken);
            }
            catch (CniException problem)
            {
                return new CniStatus(false, problem);
            }
        }
        return new CniStatus(true, null);
    }

    /// <summary>The cached result of the attachment's last ADD, or null: what the container got, also after a restart.</summary>
    public CniResult? GetCachedResult(CniAttachment attachment)
    {
        attachment.Validate(needsNetns: false);
        try
        {
            return _cache.Load(attachment) is { } cached ? CniResult.From(cached) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <returns>The first error, or null when every plugin's DEL succeeded.</returns>
    private async Task<CniException?> DeleteAllAsync(CniAttachment attachment, JsonObject? prevResult, CancellationToken cancellationToken)
    {
        var network = attachment.Network;
        CniException? first = null;
        for (int index = network.Plugins.Count - 1; index >= 0; index--)
        {
            var plugin = network.Plugins[index];
            try
            {
                await InvokeAsync("DEL", network, plugin, Find(plugin, network, "DEL"), attachment, prevResult, cancellationToken);
            }
            catch (CniException error)
            {
                first ??= error;
            }
        }
        return first;
    }

    /// <summary>The plugin's program: the first directory that has it.</summary>
    private string Find(CniPluginConfig plugin, CniConfigList network, string command)
    {
        foreach (string directory in PluginDirectories)
        {
            string path = Path.Combine(directory, plugin.Type);
            if (File.Exists(path))
                return path;
        }
        throw new CniException(ErrorKind.Unavailable,
            $"CNI plugin {plugin.Type} of network {network.Name} is not installed, so {command} cannot run: it is in none of {string.Join(", ", PluginDirectories)}; install it (Debian: containernetworking-plugins) or add its directory.",
            plugin: plugin.Type);
    }

    /// <summary>Runs one plugin; for ADD returns its result (checked to be one), else null.</summary>
    private async Task<JsonObject?> InvokeAsync(
        string command, CniConfigList network, CniPluginConfig plugin, string program, CniAttachment? attachment,
        JsonObject? prevResult, CancellationToken cancellationToken)
    {
        // SPEC.md "Deriving request configuration": the plugin's own fields unchanged, plus name and cniVersion, and for
        // the attachment operations prevResult and the runtimeConfig of the capabilities it declares.
        var request = plugin.CloneConfig();
        request["cniVersion"] = network.CniVersion;
        request["name"] = network.Name;
        request.Remove("capabilities");
        request.Remove("prevResult");
        request.Remove("runtimeConfig");
        if (prevResult is not null)
            request["prevResult"] = prevResult.DeepClone();
        if (attachment?.Capabilities?.RuntimeConfigFor(plugin.Capabilities) is { } runtimeConfig)
            request["runtimeConfig"] = runtimeConfig;

        var environment = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_PATH"] = string.Join(':', PluginDirectories),
        };
        if (attachment is not null)
        {
            environment["CNI_CONTAINERID"] = attachment.ContainerId;
            environment["CNI_IFNAME"] = attachment.InterfaceName;
            if (attachment.NetnsPath.Length > 0)
                environment["CNI_NETNS"] = attachment.NetnsPath;
            if (attachment.ArgsText is { } args)
                environment["CNI_ARGS"] = args;
        }

        CniPluginOutput output;
        try
        {
            output = await CniPluginProcess.RunAsync(program, environment, Encoding.UTF8.GetBytes(request.ToJsonString()), _timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new CniException(ErrorKind.Unavailable,
                $"CNI plugin {plugin.Type} did not finish {command} for network {network.Name} within {_timeout.TotalSeconds:0.#} s and was killed.",
                plugin: plugin.Type);
        }
        catch (Exception error) when (error is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            throw new CniException(ErrorKinds.Of(error) is var kind && kind != ErrorKind.NotFound ? kind : ErrorKind.Unavailable,
                $"CNI plugin {program} could not be started for {command} on network {network.Name}: {Clause(error.Message)}.",
                error, plugin.Type);
        }
        if (output.OutputTruncated)
            throw new CniException(ErrorKind.Internal,
                $"CNI plugin {plugin.Type} printed more than {CniPluginProcess.MaxOutputBytes / 1024} KiB for {command} on network {network.Name}; that is not a CNI result.",
                plugin: plugin.Type);
        if (output.ExitCode != 0)
            throw Failed(command, network, plugin, output);
        if (command != "ADD")
            return null;
        if (output.Output.Length == 0)
            return null;
        try
        {
            var result = CniJson.Parse(output.Output) as JsonObject ?? throw new FormatException("it is not a JSON object");
            CniResult.From(result);
            return result;
        }
        catch (Exception error) when (error is JsonException or FormatException)
        {
            throw new CniException(ErrorKind.Internal,
                $"CNI plugin {plugin.Type} returned an invalid result for ADD on network {network.Name}: {Clause(error.Message)}.",
                error, plugin.Type);
        }
    }

    /// <summary>The plugin's error result ({code, msg, details}) as a sentence; its stderr when it printed none.</summary>
    private static CniException Failed(string command, CniConfigList network, CniPluginConfig plugin, CniPluginOutput output)
    {
        int? code = null;
        string? what = null;
        try
        {
            if (output.Output.Length > 0 && CniJson.Parse(output.Output) is JsonObject error)
            {
                code = error["code"] is JsonValue value && value.TryGetValue(out int number) ? number : null;
                string? message = error["msg"] is JsonValue msg && msg.TryGetValue(out string? text) ? text : null;
                string? details = error["details"] is JsonValue more && more.TryGetValue(out string? detail) ? detail : null;
                what = string.Join(": ", new[] { message, details }.Where(part => !string.IsNullOrWhiteSpace(part)));
            }
        }
        catch (JsonException)
        {
            // Not an error result: the plugin crashed or printed something else; its stderr says more.
        }
        if (string.IsNullOrWhiteSpace(what))
            what = output.Error.Trim().Length > 0 ? output.Error : Encoding.UTF8.GetString(output.Output);
        string reason = string.IsNullOrWhiteSpace(what) ? "it printed no error" : Clause(what);
        string suffix = code is { } c ? $"code {c}" : $"exit status {output.ExitCode}";
        return new CniException(CniException.KindOf(code),
            $"CNI plugin {plugin.Type} failed {command} for network {network.Name}: {reason} ({suffix}).",
            plugin: plugin.Type, code: code);
    }

    /// <summary>Untrusted text made into one bounded clause of a sentence.</summary>
    private static string Clause(string text)
    {
        string line = string.Join(' ', text.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        line = new string(line.Where(c => !char.IsControl(c)).ToArray());
        if (line.Length > 400)
            line = line[..400] + "...";
        return line.TrimEnd('.', ' ');
    }
}
