using System.Text;
using Skiff.Build.Dockerfile;

namespace Skiff.Build.Tests;

/// <summary>
/// Random and mutated Dockerfiles through the parser, the plan and substitution: nothing but a
/// <see cref="BuildException"/> may come out, and every input must finish (the whole run is bounded by a timeout).
/// </summary>
public class DockerfileFuzzTests
{
    private static readonly string[] Corpus =
    [
        "# syntax=docker/dockerfile:1\n# escape=`\nARG A=1\nFROM --platform=$BUILDPLATFORM alpine:${A:-3} AS build\nRUN --mount=type=cache,target=/c,id=$A `\n  echo hi\nCOPY --from=build --chown=1:1 a b /c/\n",
        "FROM a AS x\nRUN <<EOF\necho $HOME\nEOF\nRUN 3<<-\"END\" cat <<X\n\tbody\n\tEND\nx\nX\nCOPY <<f1 /f\ncontent\nf1\n",
        "FROM scratch\nENV A=1 B=\"2 3\" C=${A:+x}\nLABEL a=b \"c d\"=e\nEXPOSE 80/tcp ${P:-443}\nVOLUME [\"/v\"]\nUSER ${U:-root}\nWORKDIR /w\nSTOPSIGNAL SIGKILL\nHEALTHCHECK --interval=1s --retries=2 CMD [\"true\"]\nSHELL [\"/bin/sh\",\"-c\"]\nONBUILD RUN x\nMAINTAINER m\nCMD [\"a\"]\nENTRYPOINT e\n",
        "FROM a AS one\nFROM b AS two\nCOPY --from=one / /\nRUN --mount=type=bind,from=two,target=/x,rw true\nFROM two\nARG X=${Y#*/} Z\nCOPY --from=${X%%.*} / /\n",
    ];

    private static readonly string[] Fragments =
    [
        "FROM ", "RUN ", "COPY ", "ADD ", "ENV ", "ARG ", "LABEL ", "ONBUILD ", "HEALTHCHECK ", "SHELL ", "CMD ", "AS ", "--from=",
        "--mount=", "type=cache,", "target=/x", "<<EOF", "<<-", "EOF", "\n", "\n\t", "\\\n", "`\n", "#", "# escape=`\n", "${", "}", ":-",
        "##", "%%", "/", "//", "*", "[", "]", "\"", "'", "\\", "$", "=", " ", "0", "x", "[\"a\"]", "{", ":?", "\r\n", "\uFEFF",
    ];

    private static void Exercise(string text)
    {
        try
        {
            var document = DockerfileParser.Parse(text, "Dockerfile");
            foreach (var stage in document.Stages)
                foreach (var instruction in stage.Instructions)
                    foreach (string word in Words(instruction))
                    {
                        try
                        {
                            ShellWordExpander.ExpandWords(word, new Dictionary<string, string> { ["A"] = "a b", ["HOME"] = "/root" }, document.Escape);
                        }
                        catch (BuildException)
                        {
                        }
                    }
            // What a build makes of heredocs: RUN's command, COPY/ADD's substituted bodies.
            foreach (var instruction in document.Stages.SelectMany(stage => stage.Instructions))
            {
                try
                {
                    if (instruction is RunInstruction { Heredocs.Count: > 0 } run)
                        Skiff.Build.Execution.HeredocRun.For(run, ["/bin/sh", "-c"], document.Escape);
                    if (instruction is FileInstruction file)
                        foreach (var heredoc in file.Heredocs)
                            ShellWordExpander.ExpandHeredoc(heredoc.Content, new Dictionary<string, string> { ["A"] = "a b" });
                }
                catch (BuildException)
                {
                }
            }
            foreach (string? target in new[] { null, document.Stages[0].Name })
            {
                try
                {
                    BuildPlan.Create(document, new BuildPlanOptions
                    {
                        Target = target,
                        BuildArgs = new Dictionary<string, string> { ["A"] = "build", ["X"] = "0" },
                        TargetPlatform = "linux/amd64",
                        BuildPlatform = "linux/amd64",
                    });
                }
                catch (BuildException)
                {
                }
            }
        }
        catch (BuildException)
        {
        }
    }

    private static IEnumerable<string> Words(Instruction instruction) => instruction switch
    {
        RunInstruction run => run.Command.Arguments.Concat(run.Mounts).Concat(run.Heredocs.Select(heredoc => heredoc.Content)),
        EnvInstruction env => env.Variables.SelectMany(pair => new[] { pair.Key, pair.Value }),
        LabelInstruction label => label.Labels.SelectMany(pair => new[] { pair.Key, pair.Value }),
        FileInstruction file => file.Sources.Append(file.Destination),
        _ => [instruction.Text],
    };

    private static void Run(Action body)
    {
        var task = Task.Run(body);
        Assert.True(task.Wait(TimeSpan.FromSeconds(60)), "the fuzz run did not finish in 60 s: some input makes the parser hang");
        task.GetAwaiter().GetResult();
    }

    [Fact]
    public void RandomDockerfiles() => Run(() =>
    {
        var random = new Random(1414);
        for (int iteration = 0; iteration < 20000; iteration++)
        {
            var text = new StringBuilder();
            int pieces = random.Next(1, 40);
            for (int i = 0; i < pieces; i++)
                text.Append(random.Next(4) == 0 ? (char)random.Next(0, 0x300) : Fragments[random.Next(Fragments.Length)]);
            Exercise(text.ToString());
        }
    });

    [Fact]
    public void MutatedDockerfiles() => Run(() =>
    {
        var random = new Random(4141);
        for (int iteration = 0; iteration < 20000; iteration++)
        {
            var text = new StringBuilder(Corpus[random.Next(Corpus.Length)]);
            int mutations = random.Next(1, 6);
            for (int i = 0; i < mutations && text.Length > 0; i++)
            {
                int position = random.Next(text.Length);
                switch (random.Next(4))
                {
                    case 0:
                        text.Remove(position, Math.Min(random.Next(1, 8), text.Length - position));
                        break;
                    case 1:
                        text.Insert(position, Fragments[random.Next(Fragments.Length)]);
                        break;
                    case 2:
                        text[position] = (char)random.Next(0, 0x80);
                        break;
                    default:
                        int start = random.Next(text.Length);
                        int length = Math.Min(random.Next(1, 30), text.Length - start);
                        text.Insert(position, text.ToString(start, length));
                        break;
                }
            }
            Exercise(text.ToString());
        }
    });

    [Fact]
    public void RandomMountOptions() => Run(() =>
    {
        string[] pieces = ["type=", "bind", "cache", "tmpfs", "secret", "ssh", "target=", "/x", ",", "=", "\"", "mode=", "0755", "-1", "",
            "size=", "64m", "1e9t", "uid=", "gid=", "99999999999", "id=", "sharing=", "locked", "ro", "rw=", "true", "from=", "env=", "required"];
        var random = new Random(1441);
        for (int iteration = 0; iteration < 20000; iteration++)
        {
            var text = new StringBuilder();
            int count = random.Next(1, 12);
            for (int i = 0; i < count; i++)
                text.Append(pieces[random.Next(pieces.Length)]);
            try
            {
                RunMount.Parse(text.ToString());
            }
            catch (BuildException)
            {
            }
        }
    });

    [Fact]
    public void LargeInputsStayFast() => Run(() =>
    {
        // Long lines, many continuations, deep nesting of substitutions and an unterminated heredoc at the end.
        Exercise("FROM a\nRUN " + string.Concat(Enumerable.Repeat("x \\\n", 20000)) + "y\n");
        Exercise("FROM a\nENV A=" + string.Concat(Enumerable.Repeat("${B:-", 2000)) + "x" + new string('}', 2000) + "\n");
        Exercise("FROM a\n" + string.Concat(Enumerable.Repeat("RUN <<A <<B\n", 2000)));
        Exercise("FROM a\nLABEL " + string.Concat(Enumerable.Repeat("k=\"v\" ", 20000)) + "\n");
    });
}
