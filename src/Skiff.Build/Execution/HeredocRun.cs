using System.Text;
using Skiff.Build.Dockerfile;
using Skiff.Engine.Specs;

namespace Skiff.Build.Execution;

/// <summary>
/// A shell-form RUN with heredocs as BuildKit's dispatchRun runs it. <c>RUN &lt;&lt;EOF</c> alone: the body is the
/// script the stage's SHELL runs, or, when it starts with <c>#!</c>, a file of mode 0755 mounted read-only at
/// /dev/pipes/EOF that the shell executes (so its interpreter reads it as a file). Any other use
/// (<c>RUN &lt;&lt;EOF bash</c>, <c>RUN python3 &lt;&lt;EOF</c>, <c>RUN &lt;&lt;A cat &gt;a &amp;&amp; &lt;&lt;B cat &gt;b</c>,
/// <c>3&lt;&lt;EOF</c>): the line and each body followed by its delimiter are given to the shell as one script, and the
/// shell does what it does with heredocs (stdin, descriptors, <c>&lt;&lt;-</c>, quoting). As BuildKit, the builder
/// substitutes nothing in a RUN's heredoc: the shell expands what it expands (the build args are its environment).
/// </summary>
/// <param name="Script">The body that becomes /dev/pipes/NAME (a script with a <c>#!</c> line), else null.</param>
internal sealed record HeredocRun(List<string> Command, Heredoc? Script)
{
    private const string Pipes = "/dev/pipes/";

    public static HeredocRun For(RunInstruction run, IReadOnlyList<string> shell, char escape)
    {
        string line = run.Command.Arguments[0];
        if (DockerfileParser.HeredocWord(line.Trim(), escape) is null)
        {
            var script = new StringBuilder(line);
            foreach (var heredoc in run.Heredocs)
                script.Append('\n').Append(heredoc.Content).Append(heredoc.Name);
            return new HeredocRun([.. shell, script.ToString()], null);
        }
        var only = run.Heredocs[0];
        if (!only.Content.StartsWith("#!", StringComparison.Ordinal))
            return new HeredocRun([.. shell, only.Content], null);
        if (only.Name.Contains('/') || only.Name is "." or "..")
            throw new BuildException($"RUN <<{only.Name}: a script with a #! line is run as the file {Pipes}NAME, and \"{only.Name}\" cannot name a file; use a delimiter without '/'");
        return new HeredocRun([.. shell, Pipes + only.Name], only);
    }

    /// <summary>The script's file, written for this step alone and bound read-only where the command runs it.</summary>
    public IReadOnlyList<MountRequest> Mounts(StepResources resources)
        => Script is { } script
            ? [new MountRequest(MountKind.Bind, resources.Write("heredoc\n" + script.Name, Encoding.UTF8.GetBytes(script.Content), 0x1ED, 0, 0), Pipes + script.Name, true, [])]
            : [];
}
