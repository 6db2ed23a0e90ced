using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Skiff.Network.Cni;

/// <summary>
/// The final ADD result of each attachment, kept on disk as libcni keeps it (<c>DIR/results/NETWORK-CONTAINERID-IFNAME</c>,
/// its "cniCacheV1" document), because CHECK and DEL need it as prevResult, also after the engine restarted.
/// </summary>
internal sealed class CniResultCache(string directory)
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const int MaxFileBytes = 2 * CniPluginProcess.MaxOutputBytes;

    public string Directory { get; } = directory;

    private string Results => Path.Combine(Directory, "results");

    public string PathOf(CniAttachment attachment)
        => Path.Combine(Results, $"{attachment.Network.Name}-{attachment.ContainerId}-{attachment.InterfaceName}");

    /// <summary>Writes the entry whole or not at all (a temporary file renamed over it), mode 0600.</summary>
    public void Save(CniAttachment attachment, JsonObject result)
    {
        var entry = new JsonObject
        {
            ["kind"] = "cniCacheV1",
            ["containerId"] = attachment.ContainerId,
            ["config"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(attachment.Network.ToJson())),
            ["ifName"] = attachment.InterfaceName,
            ["networkName"] = attachment.Network.Name,
            ["netns"] = attachment.NetnsPath,
        };
        if (attachment.Args is { Count: > 0 } args)
            entry["cniArgs"] = new JsonArray(args.Select(pair => (JsonNode)new JsonArray(pair.Key, pair.Value)).ToArray());
        if (attachment.Capabilities?.ToJson() is { Count: > 0 } capabilities)
            entry["capabilityArgs"] = capabilities;
        entry["result"] = result.DeepClone();

        string path = PathOf(attachment);
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Directory, DirectoryMode);
            System.IO.Directory.CreateDirectory(Results, DirectoryMode);
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                stream.Write(Encoding.UTF8.GetBytes(entry.ToJsonString()));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
            throw new CniException(ErrorKinds.Of(error),
                $"The CNI result of container {attachment.ContainerId} on network {attachment.Network.Name} cannot be cached in {path}: {error.Message.TrimEnd('.')}.",
                error);
        }
    }

    /// <summary>
    /// The cached result, or null when there is none. An entry that cannot be read as one is treated as none, as libcni
    /// does: DEL then runs without prevResult, which the spec requires plugins to accept.
    /// </summary>
    public JsonObject? Load(CniAttachment attachment)
    {
        byte[] bytes;
        try
        {
            using var stream = new FileStream(PathOf(attachment), FileMode.Open, FileAccess.Read);
            if (stream.Length > MaxFileBytes)
                return null;
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            return CniJson.Parse(bytes) is JsonObject { } entry && entry["result"] is JsonObject result && result["cniVersion"] is JsonValue
                ? (JsonObject)result.DeepClone()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Delete(CniAttachment attachment)
    {
        if (System.IO.Directory.Exists(Results))
            File.Delete(PathOf(attachment));
    }
}
