namespace Skiff.Build.Dockerfile;

/// <summary>
/// One Dockerfile instruction as written: its lines (1-based, <see cref="StartLine"/> to <see cref="EndLine"/>, heredoc
/// bodies included) and its logical line (continuations joined, comments removed) for history's <c>created_by</c>.
/// Arguments are kept unexpanded: substitution needs the stage's environment, which only the build knows.
/// </summary>
/// <param name="Keyword">The instruction's name in upper case (<c>RUN</c>, <c>COPY</c>).</param>
public abstract record Instruction(string Keyword, int StartLine, int EndLine, string Text)
{
    /// <summary>
    /// Whether the build substitutes variables in the arguments, as docker: ADD, ARG (defaults), COPY, ENV, EXPOSE, FROM,
    /// LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR do; RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK leave that to the
    /// shell, and an ONBUILD trigger to the child build.
    /// </summary>
    public bool ExpandsVariables
        => Keyword is "ADD" or "ARG" or "COPY" or "ENV" or "EXPOSE" or "FROM" or "LABEL" or "STOPSIGNAL" or "USER" or "VOLUME" or "WORKDIR";
}

/// <summary>
/// A command as docker keeps it: the exec form's arguments (<see cref="PrependShell"/> false), or the shell form's one
/// string (<see cref="PrependShell"/> true) that the stage's SHELL runs.
/// </summary>
public sealed record CommandLine(IReadOnlyList<string> Arguments, bool PrependShell);

/// <summary>
/// A heredoc body: <see cref="Name"/> is its delimiter; <see cref="Expand"/> is false when the delimiter was quoted
/// (<c>&lt;&lt;"EOF"</c>), which disables substitution in the body; <see cref="Chomp"/> records <c>&lt;&lt;-</c>, whose
/// leading tabs are already stripped from <see cref="Content"/>; <see cref="FileDescriptor"/> is the <c>3&lt;&lt;EOF</c> prefix
/// (0 when absent).
/// </summary>
public sealed record Heredoc(string Name, string Content, bool Expand, bool Chomp, int FileDescriptor);

/// <summary>A <c>name=value</c> of ENV or LABEL, both as written (quotes kept, for the build's substitution).</summary>
public sealed record KeyValue(string Key, string Value);

/// <summary>One name of an ARG line, with its default as written (null: no default).</summary>
public sealed record ArgDeclaration(string Name, string? Default);

public sealed record FromInstruction(int StartLine, int EndLine, string Text, string Image, string? StageName, string? Platform)
    : Instruction("FROM", StartLine, EndLine, Text);

/// <summary>RUN; <see cref="Mounts"/> are the raw <c>--mount</c> values (see <see cref="RunMount.Parse"/>).</summary>
public sealed record RunInstruction(int StartLine, int EndLine, string Text, CommandLine Command, IReadOnlyList<string> Mounts,
    string? Network, string? Security, IReadOnlyList<Heredoc> Heredocs)
    : Instruction("RUN", StartLine, EndLine, Text);

public sealed record CmdInstruction(int StartLine, int EndLine, string Text, CommandLine Command)
    : Instruction("CMD", StartLine, EndLine, Text);

public sealed record EntrypointInstruction(int StartLine, int EndLine, string Text, CommandLine Command)
    : Instruction("ENTRYPOINT", StartLine, EndLine, Text);

public sealed record LabelInstruction(int StartLine, int EndLine, string Text, IReadOnlyList<KeyValue> Labels)
    : Instruction("LABEL", StartLine, EndLine, Text);

public sealed record ExposeInstruction(int StartLine, int EndLine, string Text, IReadOnlyList<string> Ports)
    : Instruction("EXPOSE", StartLine, EndLine, Text);

public sealed record EnvInstruction(int StartLine, int EndLine, string Text, IReadOnlyList<KeyValue> Variables)
    : Instruction("ENV", StartLine, EndLine, Text);

/// <summary>
/// COPY and ADD: <see cref="Sources"/> and <see cref="Destination"/> as written (JSON form already decoded); a source
/// that names a heredoc (<c>&lt;&lt;EOF</c>) has its body in <see cref="Heredocs"/>.
/// </summary>
public abstract record FileInstruction(string Keyword, int StartLine, int EndLine, string Text, IReadOnlyList<string> Sources, string Destination,
    string? Chown, string? Chmod, bool Link, IReadOnlyList<string> Excludes, IReadOnlyList<Heredoc> Heredocs)
    : Instruction(Keyword, StartLine, EndLine, Text);

public sealed record CopyInstruction(int StartLine, int EndLine, string Text, IReadOnlyList<string> Sources, string Destination,
    string? Chown, string? Chmod, bool Link, IReadOnlyList<string> Excludes, IReadOnlyList<Heredoc> Heredocs, string? From, bool Parents)
    : FileInstruction("COPY", StartLine, EndLine, Text, Sources, Destination, Chown, Chmod, Link, Excludes, Heredocs);

public sealed record AddInstruction(int StartLine, int EndLine, string Text, IReadOnlyList<string> Sources, string Destination,
    string? Chown, string? Chmod, bool Link, IReadOnlyList<string> Excludes, IReadOnlyList<Heredoc> Heredocs, string? Checksum, bool KeepGitDir)
    : FileInstruction("ADD", StartLine, EndLine, Text, Sources, Destination, Chown, Chmod, Link, Excludes, Heredocs);

public sealed record VolumeInstruction(int StartLine, int EndLine, string Text, IReadOnlyList<string> Paths)
    : Instruction("VOLUME", StartLine, EndLine, Text);

public sealed record UserInstruction(int StartLine, int EndLine, string Text, string User)
    : Instruction("USER", StartLine, EndLine, Text);

public sealed record WorkdirInstruction(int StartLine, int EndLine, string Text, string Path)
    : Instruction("WORKDIR", StartLine, EndLine, Text);

public sealed record ArgInstruction(int StartLine, int EndLine, string Text, IReadOnlyList<ArgDeclaration> Args)
    : Instruction("ARG", StartLine, EndLine, Text);

/// <summary>ONBUILD: <see cref="Trigger"/> is the wrapped instruction, parsed (and so checked) now, run by a child image.</summary>
public sealed record OnbuildInstruction(int StartLine, int EndLine, string Text, Instruction Trigger)
    : Instruction("ONBUILD", StartLine, EndLine, Text);

public sealed record StopSignalInstruction(int StartLine, int EndLine, string Text, string Signal)
    : Instruction("STOPSIGNAL", StartLine, EndLine, Text);

/// <summary>
/// HEALTHCHECK: <see cref="Test"/> is the image config's form (<c>["NONE"]</c>, <c>["CMD", ...]</c> or
/// <c>["CMD-SHELL", "..."]</c>); zero durations and retries mean "the default", as in the image config.
/// </summary>
public sealed record HealthcheckInstruction(int StartLine, int EndLine, string Text, IReadOnlyList<string> Test, TimeSpan Interval,
    TimeSpan Timeout, TimeSpan StartPeriod, TimeSpan StartInterval, int Retries)
    : Instruction("HEALTHCHECK", StartLine, EndLine, Text);

public sealed record ShellInstruction(int StartLine, int EndLine, string Text, IReadOnlyList<string> Shell)
    : Instruction("SHELL", StartLine, EndLine, Text);

/// <summary>MAINTAINER: deprecated (docker sets the image's author); accepted with a warning.</summary>
public sealed record MaintainerInstruction(int StartLine, int EndLine, string Text, string Maintainer)
    : Instruction("MAINTAINER", StartLine, EndLine, Text);

/// <summary>A build stage: its FROM and the instructions up to the next FROM. Names are lower case, as docker's.</summary>
public sealed record DockerfileStage(int Index, string? Name, FromInstruction From, IReadOnlyList<Instruction> Instructions);

/// <summary>
/// A parsed Dockerfile: the ARGs before the first FROM (usable in FROM lines only), the stages, the escape character in
/// force (for substitution), and warnings docker also prints (MAINTAINER, empty continuation lines).
/// </summary>
public sealed record DockerfileDocument(string FileName, char Escape, IReadOnlyList<ArgInstruction> GlobalArgs,
    IReadOnlyList<DockerfileStage> Stages, IReadOnlyList<string> Warnings)
{
    /// <summary>The error for <paramref name="instruction"/>'s line: "Dockerfile:12: ...".</summary>
    public BuildException Error(Instruction instruction, string message) => new($"{FileName}:{instruction.StartLine}: {message}");
}
