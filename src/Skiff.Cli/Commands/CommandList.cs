namespace Skiff.Cli.Commands;

internal static class CommandList
{
    /// <summary>Every command, in the order `skiff --help` lists them. A new command is a new file and one line here.</summary>
    public static readonly CliCommand[] All =
    [
        RunCommand.Run,
        RunCommand.Create,
        ContainerCommands.Start,
        ContainerCommands.Stop,
        ContainerCommands.Restart,
        ContainerCommands.Kill,
        ContainerCommands.Remove,
        ContainerCommands.List,
        ContainerCommands.Logs,
        ContainerCommands.Exec,
        ContainerCommands.Attach,
        ContainerCommands.Wait,
        InspectCommand.Any,
        ContainerCommands.Inspect,
        ContainerCommands.Top,
        ContainerCommands.Port,
        CpCommand.Definition,
        StatsCommand.Definition,
        ContainerCommands.Rename,
        ContainerCommands.Pause,
        ContainerCommands.Unpause,
        ContainerCommands.Prune,
        ContainerImageCommands.Diff,
        ContainerImageCommands.Commit,
        ContainerImageCommands.Export,
        VolumeCommands.Create,
        VolumeCommands.List,
        VolumeCommands.Inspect,
        VolumeCommands.Remove,
        VolumeCommands.Prune,
        NetworkCommands.Create,
        NetworkCommands.List,
        NetworkCommands.Inspect,
        NetworkCommands.Remove,
        NetworkCommands.Prune,
        NetworkCommands.Connect,
        NetworkCommands.Disconnect,
        MonitorCommand.Definition,
        DnsResolverCommand.Definition,
        PullCommand.Definition,
        PushCommand.Definition,
        ImagesCommand.Definition,
        RmiCommand.Definition,
        TagCommand.Definition,
        InspectCommand.Definition,
        HistoryCommand.Definition,
        PruneCommand.Definition,
        SaveCommand.Definition,
        LoadCommand.Definition,
        ImportCommand.Definition,
        BuildCommand.Definition,
        BuilderCommands.Prune,
        LoginCommand.Definition,
        LogoutCommand.Definition,
        SystemDfCommand.Definition,
        EventsCommand.Definition,
        SystemPruneCommand.Definition,
        SystemInfoCommand.Definition,
        SystemServiceCommand.Definition,
        VersionCommand.Definition,
    ];

    /// <summary>The command named by the first one or two arguments (two-word names first); how many arguments the name took.</summary>
    public static (CliCommand? Command, int Words) Find(ReadOnlySpan<string> args)
    {
        if (args.Length >= 2)
        {
            string twoWords = $"{args[0]} {args[1]}";
            foreach (var command in All)
            {
                if (command.Names.Contains(twoWords))
                    return (command, 2);
            }
        }
        foreach (var command in All)
        {
            if (args.Length >= 1 && command.Names.Contains(args[0]))
                return (command, 1);
        }
        return (null, 0);
    }
}
