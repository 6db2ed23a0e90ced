using System.Text.Json;
using Skiff.Cgroups;
using Skiff.Oci;

namespace Skiff.Runtime.State;

/// <summary>
/// state.json by hand (Utf8JsonWriter / JsonDocument): every create, start and delete reads or
/// writes it, and the first System.Text.Json serializer use in a process costs about half a
/// millisecond of metadata setup that this small, fixed document does not need.
/// </summary>
internal static class ContainerRecordJson
{
    public static byte[] Write(ContainerRecord record)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JsonSyntaxOnlyEncoder.Instance }))
        {
            json.WriteStartObject();
            json.WriteString("id", record.Id);
            json.WriteNumber("pid", record.Pid);
            json.WriteNumber("pidStartTime", record.PidStartTime);
            json.WriteString("bundle", record.Bundle);
            json.WriteString("created", record.Created);
            json.WriteString("owner", record.Owner);
            if (record.Cgroups is { } cgroups)
            {
                json.WriteStartObject("cgroups");
                json.WriteString("mode", cgroups.Mode.ToString());
                json.WriteStartObject("paths");
                foreach (var (hierarchy, path) in cgroups.Paths)
                    json.WriteString(hierarchy, path);
                json.WriteEndObject();
                if (cgroups.SystemdUnit is { } unit)
                    json.WriteString("systemdUnit", unit);
                json.WriteEndObject();
            }
            json.WriteBoolean("paused", record.Paused);
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="JsonException">the document is not a state.json this runtime wrote</exception>
    public static ContainerRecord Read(byte[] utf8)
    {
        using var document = JsonDocument.Parse(utf8);
        var root = document.RootElement;
        try
        {
            var record = new ContainerRecord
            {
                Id = root.GetProperty("id").GetString()!,
                Pid = root.GetProperty("pid").GetInt32(),
                PidStartTime = root.GetProperty("pidStartTime").GetUInt64(),
                Bundle = root.GetProperty("bundle").GetString()!,
                Created = root.GetProperty("created").GetDateTimeOffset(),
                Owner = root.GetProperty("owner").GetString()!,
                Paused = root.TryGetProperty("paused", out var paused) && paused.GetBoolean(),
            };
            if (root.TryGetProperty("cgroups", out var cgroups) && cgroups.ValueKind == JsonValueKind.Object)
            {
                var paths = new CgroupPaths { Mode = Enum.Parse<CgroupMode>(cgroups.GetProperty("mode").GetString()!) };
                foreach (var entry in cgroups.GetProperty("paths").EnumerateObject())
                    paths.Paths[entry.Name] = entry.Value.GetString()!;
                if (cgroups.TryGetProperty("systemdUnit", out var unit))
                    paths.SystemdUnit = unit.GetString();
                record.Cgroups = paths;
            }
            return record;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new JsonException(e.Message, e);
        }
    }
}
