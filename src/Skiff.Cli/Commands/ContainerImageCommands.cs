using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Images.Archive;
using Skiff.Images.Layers;
using Skiff.Images.Service;
using Skiff.Interop;
using Skiff.Oci.Image;
using Skiff.Storage.Snapshots;

namespace Skiff.Cli.Commands;

/// <summary>The commands that read a container's filesystem: <c>diff</c>, <c>commit</c> and <c>export</c>.</summary>
internal static class ContainerImageCommands
{
    public static readonly CliCommand Diff = new(
        "diff", "CONTAINER", "List the files a container added (A), changed (C) and deleted (D) in its rootfs.",
        [CliCommand.Help],
        (context, args) =>
        {
            var container = context.Engine.ContainerQueries.Get(args.Positionals[0]);
            var mountTargets = new MountTargets(context.Engine.ContainerQueries.EngineMountTargets(container));
            foreach (var change in context.ImageStore.ContainerChanges(container.Id, mountTargets))
            {
                string line = change.ToString();
                if (!FileNames.HasEscapes(line))
                {
                    context.Out.WriteLine(line);
                    continue;
                }
                // A name that is not UTF-8: its own bytes, as docker prints it, not the text writer's U+FFFD.
                context.Out.Flush();
                using var stdout = Console.OpenStandardOutput();
                stdout.Write([.. FileNames.GetBytes(line), (byte)'\n']);
            }
            return 0;
        },
        MinPositionals: 1, MaxPositionals: 1, Aliases: ["container diff"]);

    public static readonly CliCommand Commit = new(
        "commit", "CONTAINER [REPOSITORY[:TAG]]", "Make a new image from a container's changes; prints its ID.",
        [
            new("author", 'a', TakesValue: true, Help: "author of the image (e.g. \"Jane Doe <jane@example.com>\")"),
            new("message", 'm', TakesValue: true, Help: "comment of the image's history entry"),
            new("change", 'c', TakesValue: true, Repeatable: true, Help: "Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)"),
            new("pause", 'p', Help: "pause a running container while its changes are read (default true; --pause=false to not)"),
            CliCommand.Help,
        ],
        RunCommit, MinPositionals: 1, MaxPositionals: 2, Aliases: ["container commit"]);

    public static readonly CliCommand Export = new(
        "export", "CONTAINER", "Write a container's whole filesystem (without its volumes) as a tar archive.",
        [new("output", 'o', TakesValue: true, Help: "write to this file instead of standard output"), CliCommand.Help],
        (context, args) =>
        {
            var container = context.Engine.ContainerQueries.Get(args.Positionals[0]);
            // The host's mount of the rootfs: volumes and the engine's /etc files are mounted only in the
            // container's own mount namespace, so they are not in it, as docker export leaves them out.
            string rootfs = container.Config.RootfsPath;
            if (!MountInfo.IsMountPoint(rootfs))
                throw new EngineException($"export: the rootfs of container {container.Name} is not mounted at {rootfs} (was the host restarted?); start the container once, then export it");
            ArchiveOutput.Write("export", args.Value("output"), output => TreeArchiver.WriteTree(rootfs, output));
            return 0;
        },
        MinPositionals: 1, MaxPositionals: 1, Aliases: ["container export"]);

    private static int RunCommit(CliContext context, ParsedArguments args)
    {
        var container = context.Engine.ContainerQueries.Get(args.Positionals[0]);
        var parent = context.ImageStore.Resolve(container.ImageId);
        var request = new CommitRequest
        {
            ContainerId = container.Id,
            ImageId = parent.Id,
            Config = ContainerRunConfig(container, context.ImageStore.Config(parent).Config),
            Changes = args.Values("change"),
            Author = args.Value("author"),
            Comment = args.Value("message"),
            CreatedBy = string.Join(' ', container.Config.Entrypoint.Concat(container.Config.Cmd)),
            Names = args.Positionals.Count > 1 ? [args.Positionals[1]] : [],
            MountTargets = new MountTargets(context.Engine.ContainerQueries.EngineMountTargets(container)),
        };
        bool pause = args.Value("pause") != "false" && container.State.Status == ContainerStatus.Running;
        if (pause)
            context.Containers.Pause(container.Id);
        Images.Service.ImageInfo image;
        try
        {
            image = context.ImageStore.Commit(request);
        }
        finally
        {
            if (pause)
                context.Containers.Unpause(container.Id);
        }
        context.Out.WriteLine(image.Id);
        return 0;
    }

    /// <summary>
    /// The run configuration the container was created with, in image terms, as docker commits it: its command,
    /// the image's environment with the <c>-e</c> values, its user, working dir and labels; ports and volumes of the
    /// image, and the stop signal in effect.
    /// </summary>
    private static ImageExecutionConfig ContainerRunConfig(ContainerRecord container, ImageExecutionConfig? image)
    {
        var config = container.Config;
        return (image ?? new ImageExecutionConfig()) with
        {
            Entrypoint = config.Entrypoint.Count > 0 ? [.. config.Entrypoint] : null,
            Cmd = config.Cmd.Count > 0 ? [.. config.Cmd] : null,
            Env = ImageChanges.MergeEnv(image?.Env, config.Options.Env),
            User = config.User.Length > 0 ? config.User : null,
            WorkingDir = config.Options.WorkingDir ?? image?.WorkingDir,
            Labels = config.Labels.Count > 0 ? new Dictionary<string, string>(config.Labels) : null,
            StopSignal = config.StopSignal == "SIGTERM" && image?.StopSignal is null ? null : config.StopSignal,
        };
    }
}
