using Skiff.Build.Dockerfile;

namespace Skiff.Build.Tests;

public class DockerfileParserTests
{
    private static DockerfileDocument Parse(string text) => DockerfileParser.Parse(text, "Dockerfile");

    private static T Only<T>(string text) where T : Instruction
    {
        var document = Parse(text.StartsWith("FROM", StringComparison.Ordinal) ? text : "FROM scratch\n" + text);
        return Assert.IsType<T>(Assert.Single(document.Stages[^1].Instructions));
    }

    private static string Error(string text) => Assert.Throws<BuildException>(() => Parse(text)).Message;

    [Fact]
    public void FromWithNameAndPlatform()
    {
        var document = Parse("from --platform=$BUILDPLATFORM golang:1.22 As Build\nFROM build\nFROM alpine");
        Assert.Equal(3, document.Stages.Count);
        var first = document.Stages[0];
        Assert.Equal("build", first.Name);
        Assert.Equal("golang:1.22", first.From.Image);
        Assert.Equal("$BUILDPLATFORM", first.From.Platform);
        Assert.Equal((1, 1), (first.From.StartLine, first.From.EndLine));
        Assert.Null(document.Stages[1].Name);
        Assert.Equal("build", document.Stages[1].From.Image);
        Assert.Equal(2, document.Stages[2].Index);
    }

    [Theory]
    [InlineData("FROM a b", "Dockerfile:1: FROM takes an image and optionally AS and a stage name: write FROM IMAGE [AS NAME]")]
    [InlineData("FROM a AS 1x", "Dockerfile:1: \"1x\" is not a valid stage name: start with a letter and use letters, digits, '-', '_' and '.'")]
    [InlineData("FROM --platfrm=x a", "Dockerfile:1: unknown flag --platfrm for FROM: FROM takes --platform")]
    [InlineData("FROM a AS x\nFROM b AS X", "Dockerfile:2: the stage name \"x\" is already used by the stage at line 1: give each stage its own name")]
    [InlineData("RUN true\nFROM a", "Dockerfile:1: RUN comes before the first FROM: only ARG may precede FROM; start the build stage with FROM")]
    [InlineData("", "Dockerfile: the file has no instructions: a Dockerfile needs at least a FROM line")]
    [InlineData("ARG A=1", "Dockerfile: there is no FROM instruction: a Dockerfile needs at least one build stage after its ARGs")]
    [InlineData("FROM a\nFORM b", "Dockerfile:2: unknown instruction: FORM (did you mean FROM?)")]
    [InlineData("FROM a\nfrun b", "Dockerfile:2: unknown instruction: frun (did you mean RUN?)")]
    [InlineData("FROM a\nXYZZYQ b", "Dockerfile:2: unknown instruction: XYZZYQ: use one of ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR")]
    [InlineData("FROM a\nRUN", "Dockerfile:2: RUN needs an argument")]
    [InlineData("FROM a\nRUN --mount", "Dockerfile:2: the flag --mount of RUN needs a value: write --mount=VALUE")]
    [InlineData("FROM a\nRUN --network=bridge true", "Dockerfile:2: RUN --network takes default, none or host, not \"bridge\"")]
    [InlineData("FROM a\nRUN --security=x true", "Dockerfile:2: RUN --security takes sandbox or insecure, not \"x\"")]
    [InlineData("FROM a\nCOPY --from=a --from=b x y", "Dockerfile:2: the flag --from is given twice to COPY: give it once")]
    [InlineData("FROM a\nCOPY --link=maybe x y", "Dockerfile:2: the flag --link of COPY takes true or false, not \"maybe\"")]
    [InlineData("FROM a\nCOPY x", "Dockerfile:2: COPY needs at least a source and a destination: write COPY SOURCE... DESTINATION")]
    [InlineData("FROM a\nADD --from=x a b", "Dockerfile:2: unknown flag --from for ADD: ADD takes --chown, --chmod, --checksum, --link, --keep-git-dir, --exclude")]
    [InlineData("FROM a\nUSER --x=1 root", "Dockerfile:2: unknown flag --x for USER: USER takes no flags")]
    [InlineData("FROM a\nENV A", "Dockerfile:2: ENV A has no value: write ENV A=VALUE")]
    [InlineData("FROM a\nENV A=1 B", "Dockerfile:2: \"B\" has no '=': write ENV NAME=VALUE for each pair")]
    [InlineData("FROM a\nLABEL =x", "Dockerfile:2: LABEL \"=x\" has an empty name: write LABEL NAME=VALUE")]
    [InlineData("FROM a\nARG =x", "Dockerfile:2: ARG \"=x\" has an empty name: write ARG NAME=DEFAULT")]
    [InlineData("FROM a\nSHELL /bin/bash -c", "Dockerfile:2: SHELL takes a JSON array of strings: write SHELL [\"/bin/sh\", \"-c\"]")]
    [InlineData("FROM a\nSHELL []", "Dockerfile:2: SHELL takes a JSON array of strings: write SHELL [\"/bin/sh\", \"-c\"]")]
    [InlineData("FROM a\nVOLUME [\"\"]", "Dockerfile:2: VOLUME has an empty path: name a directory")]
    [InlineData("FROM a\nONBUILD ONBUILD RUN x", "Dockerfile:2: ONBUILD ONBUILD is not allowed: an ONBUILD trigger cannot be chained")]
    [InlineData("FROM a\nONBUILD FROM x", "Dockerfile:2: FROM is not allowed as an ONBUILD trigger")]
    [InlineData("FROM a\nONBUILD maintainer x", "Dockerfile:2: MAINTAINER is not allowed as an ONBUILD trigger")]
    [InlineData("FROM a\nONBUILD FORM x", "Dockerfile:2: unknown instruction: FORM (did you mean FROM?)")]
    [InlineData("FROM a\nHEALTHCHECK NONE x", "Dockerfile:2: HEALTHCHECK NONE takes no arguments: remove what follows NONE")]
    [InlineData("FROM a\nHEALTHCHECK RUN x", "Dockerfile:2: unknown HEALTHCHECK type \"RUN\": write HEALTHCHECK CMD COMMAND or HEALTHCHECK NONE")]
    [InlineData("FROM a\nHEALTHCHECK CMD", "Dockerfile:2: HEALTHCHECK CMD needs a command")]
    [InlineData("FROM a\nHEALTHCHECK --interval=5 CMD x", "Dockerfile:2: HEALTHCHECK --interval takes a duration such as 30s, 1m30s or 500ms, not \"5\"")]
    [InlineData("FROM a\nHEALTHCHECK --timeout=-1s CMD x", "Dockerfile:2: HEALTHCHECK --timeout cannot be negative")]
    [InlineData("FROM a\nHEALTHCHECK --start-period=10us CMD x", "Dockerfile:2: HEALTHCHECK --start-period cannot be less than 1ms")]
    [InlineData("FROM a\nHEALTHCHECK --retries=-1 CMD x", "Dockerfile:2: HEALTHCHECK --retries takes a whole number of at least 0, not \"-1\"")]
    [InlineData("# escape=x\nFROM a", "Dockerfile:1: the escape parser directive must be \\ or `, not \"x\"")]
    [InlineData("# escape=`\n# Escape=\\\nFROM a", "Dockerfile:2: the escape parser directive is given twice: keep only one")]
    [InlineData("FROM a\nRUN <<EOF\nbody\n", "Dockerfile:2: the heredoc <<EOF opened here has no terminating line \"EOF\" (lines 3 to the end): end it with a line \"EOF\"")]
    public void Errors(string text, string message) => Assert.Equal(message, Error(text));

    [Fact]
    public void DirectivesCommentsBlankLinesAndContinuations()
    {
        var document = Parse("# syntax=docker/dockerfile:1\n#escape = `\n\n# a comment\nFROM a\n  RUN echo `\n# skipped inside the continuation\n   one `\n\n  two\nRUN echo \\\n");
        Assert.Equal('`', document.Escape);
        var run = Assert.IsType<RunInstruction>(document.Stages[0].Instructions[0]);
        Assert.Equal("RUN echo    one   two", run.Text);
        Assert.Equal(["echo    one   two"], run.Command.Arguments);
        Assert.Equal((6, 10), (run.StartLine, run.EndLine));
        Assert.Equal("RUN echo \\", document.Stages[0].Instructions[1].Text);
        Assert.Equal(["Dockerfile:6: empty continuation line: docker will make this an error; remove the blank line or the escape character before it"], document.Warnings);
    }

    [Fact]
    public void AContinuationAtTheEndOfTheFileEndsTheInstruction()
    {
        var document = Parse("FROM a\nRUN echo \\\n");
        Assert.Equal("RUN echo", Assert.Single(document.Stages[0].Instructions).Text);
        Assert.Empty(document.Warnings);
    }

    [Fact]
    public void DirectivesOnlyBeforeTheFirstInstructionOrComment()
    {
        Assert.Equal('\\', Parse("# hello\n# escape=`\nFROM a").Escape);
        Assert.Equal('\\', Parse("FROM a\n# escape=`\n").Escape);
        Assert.Equal('`', Parse("\uFEFF# unknown=1\r\n# escape=`\r\nFROM a\r\n").Escape);
    }

    [Fact]
    public void RunShellAndExecFormsAndFlags()
    {
        var shell = Only<RunInstruction>("RUN --mount=type=cache,target=/root/.cache --mount=type=tmpfs,target=/tmp --network=none --security=insecure echo \"$HOME\" && ls");
        Assert.Equal(["echo \"$HOME\" && ls"], shell.Command.Arguments);
        Assert.True(shell.Command.PrependShell);
        Assert.Equal(["type=cache,target=/root/.cache", "type=tmpfs,target=/tmp"], shell.Mounts);
        Assert.Equal("none", shell.Network);
        Assert.Equal("insecure", shell.Security);
        var exec = Only<RunInstruction>("run [\"/bin/echo\", \"a b\", \"\\u00e9\"]");
        Assert.False(exec.Command.PrependShell);
        Assert.Equal(["/bin/echo", "a b", "é"], exec.Command.Arguments);
        // Not an array of strings: the shell form, as docker's.
        Assert.Equal(["[\"a\", 1]"], Only<RunInstruction>("RUN [\"a\", 1]").Command.Arguments);
        Assert.Equal(["[not json"], Only<RunInstruction>("RUN [not json").Command.Arguments);
        // A lone -- ends the flags, as docker's.
        Assert.Equal(["--x"], Only<RunInstruction>("RUN -- --x").Command.Arguments);
        Assert.Equal(["ls"], Only<RunInstruction>("RUN --network=host -- ls").Command.Arguments);
        Assert.Equal(["a=b c"], Only<RunInstruction>("RUN --mount=\"a=b c\" true").Mounts);
    }

    [Fact]
    public void CmdEntrypointShell()
    {
        Assert.Equal(new[] { "a", "b" }, Only<CmdInstruction>("CMD [\"a\",\"b\"]").Command.Arguments);
        Assert.True(Only<CmdInstruction>("CMD echo hi").Command.PrependShell);
        Assert.Empty(Only<CmdInstruction>("CMD []").Command.Arguments);
        var entrypoint = Only<EntrypointInstruction>("ENTRYPOINT [\"/init\"]");
        Assert.Equal(["/init"], entrypoint.Command.Arguments);
        Assert.False(entrypoint.Command.PrependShell);
        Assert.Equal(["/bin/bash", "-eo", "pipefail", "-c"], Only<ShellInstruction>("SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]").Shell);
    }

    [Fact]
    public void EnvAndLabelBothForms()
    {
        var env = Only<EnvInstruction>("ENV A=1 B=\"two words\" C=three\\ words D='$x' E=");
        Assert.Equal([new KeyValue("A", "1"), new KeyValue("B", "\"two words\""), new KeyValue("C", "three\\ words"), new KeyValue("D", "'$x'"), new KeyValue("E", "")], env.Variables);
        Assert.Equal([new KeyValue("PATH", "/usr/bin  /bin x")], Only<EnvInstruction>("ENV PATH /usr/bin  /bin x").Variables);
        var labels = Only<LabelInstruction>("LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0");
        Assert.Equal([new KeyValue("\"com.example.vendor\"", "\"ACME Inc\""), new KeyValue("version", "1.0")], labels.Labels);
        Assert.Equal([new KeyValue("key", "a value")], Only<LabelInstruction>("LABEL key a value").Labels);
    }

    [Fact]
    public void ArgExposeVolumeUserWorkdirStopsignalMaintainer()
    {
        Assert.Equal([new ArgDeclaration("A", null), new ArgDeclaration("B", "2"), new ArgDeclaration("C", "\"x y\""), new ArgDeclaration("D", "")],
            Only<ArgInstruction>("ARG A B=2 C=\"x y\" D=").Args);
        Assert.Equal(["80/tcp", "$PORT", "53/udp"], Only<ExposeInstruction>("EXPOSE 80/tcp  $PORT 53/udp").Ports);
        Assert.Equal(["/data", "/var/log"], Only<VolumeInstruction>("VOLUME /data /var/log").Paths);
        Assert.Equal(["/a b"], Only<VolumeInstruction>("VOLUME [\"/a b\"]").Paths);
        Assert.Equal("app:app", Only<UserInstruction>("USER app:app").User);
        Assert.Equal("/my dir", Only<WorkdirInstruction>("WORKDIR /my dir").Path);
        Assert.Equal("SIGTERM", Only<StopSignalInstruction>("STOPSIGNAL SIGTERM").Signal);
        var document = Parse("FROM a\nMAINTAINER Jane <jane@example.com>");
        Assert.Equal("Jane <jane@example.com>", Assert.IsType<MaintainerInstruction>(document.Stages[0].Instructions[0]).Maintainer);
        Assert.Equal(["Dockerfile:2: MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors=NAME"], document.Warnings);
    }

    [Fact]
    public void GlobalArgsBeforeFrom()
    {
        var document = Parse("ARG VERSION=1\nARG BASE\nFROM alpine:$VERSION\nARG VERSION");
        Assert.Equal([2], document.GlobalArgs.Select(arg => arg.StartLine).Skip(1));
        Assert.Equal(new ArgDeclaration("VERSION", "1"), document.GlobalArgs[0].Args[0]);
        Assert.IsType<ArgInstruction>(Assert.Single(document.Stages[0].Instructions));
    }

    [Fact]
    public void CopyAndAddFlags()
    {
        var copy = Only<CopyInstruction>("COPY --from=build --chown=1:2 --chmod=0755 --link --parents --exclude=*.md --exclude=tmp a b /dst/");
        Assert.Equal(["a", "b"], copy.Sources);
        Assert.Equal("/dst/", copy.Destination);
        Assert.Equal(("build", "1:2", "0755", true, true), (copy.From, copy.Chown, copy.Chmod, copy.Link, copy.Parents));
        Assert.Equal(["*.md", "tmp"], copy.Excludes);
        var plain = Only<CopyInstruction>("COPY --link=false [\"a b\", \"/c d\"]");
        Assert.Equal((false, false, null), (plain.Link, plain.Parents, plain.From));
        Assert.Equal(["a b"], plain.Sources);
        Assert.Equal("/c d", plain.Destination);
        var add = Only<AddInstruction>("ADD --checksum=sha256:abc --keep-git-dir=true --chown=app --link https://example.com/x.tgz /opt/");
        Assert.Equal(("sha256:abc", true, "app", true), (add.Checksum, add.KeepGitDir, add.Chown, add.Link));
        Assert.Equal(["https://example.com/x.tgz"], add.Sources);
    }

    [Fact]
    public void Healthcheck()
    {
        var check = Only<HealthcheckInstruction>("HEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=100ms --start-interval=2s --retries=3 CMD curl -f http://localhost/");
        Assert.Equal(["CMD-SHELL", "curl -f http://localhost/"], check.Test);
        Assert.Equal((TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(1500), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), 3),
            (check.Interval, check.Timeout, check.StartPeriod, check.StartInterval, check.Retries));
        Assert.Equal(["CMD", "/check", "-q"], Only<HealthcheckInstruction>("HEALTHCHECK cmd [\"/check\", \"-q\"]").Test);
        var none = Only<HealthcheckInstruction>("HEALTHCHECK none");
        Assert.Equal(["NONE"], none.Test);
        Assert.Equal(TimeSpan.Zero, Only<HealthcheckInstruction>("HEALTHCHECK --interval=0 CMD x").Interval);
        Assert.Equal(TimeSpan.FromHours(1.5), Only<HealthcheckInstruction>("HEALTHCHECK --interval=1.5h CMD x").Interval);
    }

    [Fact]
    public void OnbuildWrapsAParsedInstruction()
    {
        var onbuild = Only<OnbuildInstruction>("ONBUILD run --mount=type=cache,target=/c make");
        var trigger = Assert.IsType<RunInstruction>(onbuild.Trigger);
        Assert.Equal(["make"], trigger.Command.Arguments);
        Assert.Equal(["type=cache,target=/c"], trigger.Mounts);
        Assert.Equal("run --mount=type=cache,target=/c make", trigger.Text);
        Assert.Equal("ONBUILD run --mount=type=cache,target=/c make", onbuild.Text);
    }

    [Fact]
    public void Heredocs()
    {
        var document = Parse("FROM a\nRUN <<EOF\necho \"$HOME\"\n  indented\nEOF\nRUN 3<<-'END' cat <<\"Two\" > /x\n\tfirst\n\t\tsecond\n\tEND\nsecond body\nTwo\nCOPY <<file1 <<file2 /dest/\none\nfile1\ntwo\nfile2\nRUN echo done");
        var instructions = document.Stages[0].Instructions;
        var first = Assert.IsType<RunInstruction>(instructions[0]);
        Assert.Equal(["<<EOF"], first.Command.Arguments);
        Assert.Equal([new Heredoc("EOF", "echo \"$HOME\"\n  indented\n", true, false, 0)], first.Heredocs);
        Assert.Equal((2, 5), (first.StartLine, first.EndLine));
        var second = Assert.IsType<RunInstruction>(instructions[1]);
        Assert.Equal([new Heredoc("END", "first\nsecond\n", false, true, 3), new Heredoc("Two", "second body\n", false, false, 0)], second.Heredocs);
        Assert.Equal((6, 11), (second.StartLine, second.EndLine));
        var copy = Assert.IsType<CopyInstruction>(instructions[2]);
        Assert.Equal(["<<file1", "<<file2"], copy.Sources);
        Assert.Equal("/dest/", copy.Destination);
        Assert.Equal(["one\n", "two\n"], copy.Heredocs.Select(heredoc => heredoc.Content));
        Assert.Equal(17, instructions[3].StartLine);
        // Not heredocs: exec form, a here-string, an open quote, a marker with nothing after it.
        Assert.Empty(Parse("FROM a\nRUN [\"cat\", \"<<EOF\"]\nRUN cat <<<word\nRUN echo \"<<EOF\nRUN cat << EOF").Stages[0].Instructions.OfType<RunInstruction>().SelectMany(run => run.Heredocs));
    }

    [Fact]
    public void EveryInstructionRecordsItsKeyword()
    {
        var document = Parse("ARG A\nFROM a\nRUN x\nCMD x\nLABEL a=b\nEXPOSE 1\nENV a=b\nADD a b\nCOPY a b\nENTRYPOINT x\nVOLUME /v\nUSER u\nWORKDIR /w\nARG b\nONBUILD RUN x\nSTOPSIGNAL 9\nHEALTHCHECK NONE\nSHELL [\"sh\"]\nMAINTAINER m");
        Assert.Equal(["RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER"],
            document.Stages[0].Instructions.Select(instruction => instruction.Keyword));
        Assert.Equal(Enumerable.Range(3, 17), document.Stages[0].Instructions.Select(instruction => instruction.StartLine));
        Assert.Equal(["LABEL", "EXPOSE", "ENV", "ADD", "COPY", "VOLUME", "USER", "WORKDIR", "ARG", "STOPSIGNAL"],
            document.Stages[0].Instructions.Where(instruction => instruction.ExpandsVariables).Select(instruction => instruction.Keyword));
        Assert.True(document.Stages[0].From.ExpandsVariables);
    }
}
