using Skiff.Engine;
using Skiff.Images.Archive;
using Skiff.Images.Layers;

namespace Skiff.Build.Execution;

/// <summary>What `build --output` exports besides the image kept in the store.</summary>
public enum BuildOutputType
{
    /// <summary>The image as `docker save` writes it.</summary>
    Docker,
    /// <summary>The image as an OCI layout in a tar.</summary>
    Oci,
    /// <summary>The final root filesystem, as files in a directory.</summary>
    Local,
    /// <summary>The final root filesystem, as a tar.</summary>
    Tar,
}

/// <summary>
/// docker build's <c>--output</c> (<c>-o</c>): <c>type=docker|oci|local|tar,dest=PATH</c>; a bare <c>PATH</c> is
/// type=local, a bare <c>-</c> a tar on stdout (as docker's CLI). A <c>dest</c> of <c>-</c> writes the archive
/// types to stdout.
/// </summary>
public sealed record BuildOutput(BuildOutputType Type, string Destination)
{
    public static BuildOutput Parse(string value)
    {
        if (!value.Contains('='))
            return value == "-" ? new(BuildOutputType.Tar, "-") : new(BuildOutputType.Local, value);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in value.Split(','))
        {
            var pair = field.Split('=', 2);
            if (pair.Length != 2 || pair[0].Length == 0)
                throw new BuildException($"--output \"{value}\": \"{field}\" is not KEY=VALUE; write type=TYPE,dest=PATH.");
            fields[pair[0].Trim().ToLowerInvariant()] = pair[1];
        }
        if (fields.Keys.Except(["type", "dest"]).FirstOrDefault() is { } unknown)
            throw new BuildException($"--output \"{value}\": \"{unknown}\" is not an option skiff takes; use type and dest.");
        var type = fields.GetValueOrDefault("type", "local") switch
        {
            "docker" => BuildOutputType.Docker,
            "oci" => BuildOutputType.Oci,
            "local" => BuildOutputType.Local,
            "tar" => BuildOutputType.Tar,
            var other => throw new BuildException($"--output type={other} is not one skiff exports: use docker, oci, local or tar."),
        };
        if (!fields.TryGetValue("dest", out var destination) || destination.Length == 0)
            throw new BuildException($"--output \"{value}\" has no dest=PATH.");
        if (type == BuildOutputType.Local && destination == "-")
            throw new BuildException("--output type=local needs a directory, not -; use type=tar for stdout.");
        return new(type, destination);
    }

    /// <summary>Writes image <paramref name="imageId"/> (tagged with <paramref name="tags"/> in an archive) as this output says; <paramref name="stdout"/> for a dest of -.</summary>
    public void Write(EngineHost host, string imageId, IReadOnlyList<string> tags, Func<Stream> stdout)
    {
        switch (Type)
        {
            case BuildOutputType.Docker or BuildOutputType.Oci:
                var save = host.Images.Save(tags.Count > 0 ? tags : [imageId], Type == BuildOutputType.Docker ? ArchiveFormat.DockerArchive : ArchiveFormat.OciArchive);
                WriteStream(save.WriteTo, stdout);
                break;
            case BuildOutputType.Tar:
                using (var view = new SnapshotView(host, imageId))
                    WriteStream(output => TreeArchiver.WriteTree(view.Path, output), stdout);
                break;
            default:
                Directory.CreateDirectory(Destination);
                using (var view = new SnapshotView(host, imageId))
                    TreeCopy.Copy(view.Path, Destination);
                break;
        }
    }

    private void WriteStream(Action<Stream> write, Func<Stream> stdout)
    {
        if (Destination == "-")
        {
            using var output = stdout();
            write(output);
            return;
        }
        Skiff.Interop.FileTree.WriteReplacing(Destination, write);
    }
}
