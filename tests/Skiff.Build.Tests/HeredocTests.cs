using Skiff.Build.Dockerfile;
using Skiff.Build.Execution;

namespace Skiff.Build.Tests;

/// <summary>Heredocs beyond <c>RUN &lt;&lt;EOF</c> alone: the markers, their bodies, and the command or files they become.</summary>
public class HeredocTests
{
    private static readonly List<string> Shell = ["/bin/sh", "-c"];

    private static RunInstruction Run(string dockerfile)
        => Assert.IsType<RunInstruction>(DockerfileParser.Parse("FROM a\n" + dockerfile, "Dockerfile").Stages[0].Instructions[0]);

    [Theory]
    [InlineData("<<EOF", "EOF", true, false, 0)]
    [InlineData("<<-EOF", "EOF", true, true, 0)]
    [InlineData("<<\"EOF\"", "EOF", false, false, 0)]
    [InlineData("<<-'EOF'", "EOF", false, true, 0)]
    [InlineData("3<<E\"O\"F", "EOF", false, false, 3)]
    [InlineData("<<$EOF", "$EOF", true, false, 0)]
    public void AWordOpensAHeredocAsBuildKitReadsIt(string word, string name, bool expand, bool chomp, int descriptor)
        => Assert.Equal(new Heredoc(name, "", expand, chomp, descriptor), DockerfileParser.HeredocWord(word, '\\'));

    [Theory]
    [InlineData("<<")]
    [InlineData("<<<word")]
    [InlineData("file.txt")]
    [InlineData("<<'open")]
    [InlineData("<<EOF bash")]
    public void OtherWordsOpenNone(string word) => Assert.Null(DockerfileParser.HeredocWord(word, '\\'));

    [Fact]
    public void RunWithTheHeredocAloneRunsItsBodyInTheShellWithoutSubstitutionByTheBuilder()
    {
        var run = HeredocRun.For(Run("RUN <<'EOF'\necho \"$HOME\" \\\\n\nEOF\n"), Shell, '\\');
        Assert.Equal(["/bin/sh", "-c", "echo \"$HOME\" \\\\n\n"], run.Command);
        Assert.Null(run.Script);
        // <<- strips the body's leading tabs.
        Assert.Equal(["/bin/sh", "-c", "echo one\necho two\n"], HeredocRun.For(Run("RUN <<-EOF\n\techo one\n\t\techo two\n\tEOF\n"), Shell, '\\').Command);
    }

    [Fact]
    public void ABodyWithAShebangIsAFileThatTheShellExecutes()
    {
        var run = HeredocRun.For(Run("RUN <<PY\n#!/usr/bin/env python3\nprint('hi')\nPY\n"), Shell, '\\');
        Assert.Equal(["/bin/sh", "-c", "/dev/pipes/PY"], run.Command);
        Assert.Equal("#!/usr/bin/env python3\nprint('hi')\n", run.Script!.Content);
        var error = Assert.Throws<BuildException>(() => HeredocRun.For(Run("RUN <<..\n#!/bin/sh\n..\n"), Shell, '\\'));
        Assert.Contains("cannot name a file", error.Message);
    }

    [Theory]
    [InlineData("RUN <<EOF bash\necho in bash\nEOF\n", "<<EOF bash\necho in bash\nEOF")]
    [InlineData("RUN python3 <<EOF\nprint(1)\nEOF\n", "python3 <<EOF\nprint(1)\nEOF")]
    [InlineData("RUN <<A cat >a && <<B cat >b\nfirst\nA\nsecond\nB\n", "<<A cat >a && <<B cat >b\nfirst\nA\nsecond\nB")]
    [InlineData("RUN cat <<'Q' >/q\n$HOME\nQ\n", "cat <<'Q' >/q\n$HOME\nQ")]
    [InlineData("RUN 3<<-EOF cat /dev/fd/3\n\ttabbed\n\tEOF\n", "3<<-EOF cat /dev/fd/3\ntabbed\nEOF")]
    public void AnyOtherUseIsOneScriptTheShellReadsItsHeredocsFrom(string dockerfile, string script)
    {
        var run = HeredocRun.For(Run(dockerfile), Shell, '\\');
        Assert.Equal(["/bin/sh", "-c", script], run.Command);
        Assert.Null(run.Script);
    }

    [Fact]
    public void AHeredocBodyOfCopyExpandsAsBuildKitsExpandRaw()
    {
        var env = new Dictionary<string, string> { ["FOO"] = "bar", ["EMPTY"] = "" };
        Assert.Equal("echo \"hello bar\" 'bar' $UNSET ${UNSET} ${UNSET:-d} ${UNSET#x} ${UNSET/a/b}\n",
            ShellWordExpander.ExpandHeredoc("echo \"hello ${FOO}\" '$FOO' $UNSET ${UNSET} ${UNSET:-d} ${UNSET#x} ${UNSET/a/b}\n", env));
        Assert.Equal("d anb $\n", ShellWordExpander.ExpandHeredoc("${EMPTY:-d} a\\nb $\n", env));
    }

    [Theory]
    [InlineData("FROM a\nCOPY <<EOF <<OUT\nx\nEOF\n", "Dockerfile:2: COPY cannot take a heredoc as its destination: name a path after the sources")]
    [InlineData("FROM a\nCOPY <<EOF /x\nbody\n", "Dockerfile:2: the heredoc <<EOF opened here has no terminating line \"EOF\" (lines 3 to the end): end it with a line \"EOF\"")]
    [InlineData("FROM a\nRUN echo ok\nRUN <<A cat && <<B cat\na\nA\nb\n", "Dockerfile:3: the heredoc <<B opened here has no terminating line \"B\" (lines 6 to the end): end it with a line \"B\"")]
    public void BadHeredocsNameTheFileAndLine(string dockerfile, string message)
        => Assert.Equal(message, Assert.Throws<BuildException>(() => DockerfileParser.Parse(dockerfile, "Dockerfile")).Message);
}
