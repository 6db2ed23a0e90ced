using System.Diagnostics;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// skiff at a real terminal (a tmux pane, see <see cref="TerminalSession"/>): what a container process can reach of
/// the caller's terminal and files, and how `run -it`, `exec -it`, `start -ai` and `attach` behave as interactive
/// sessions (echo, control keys, window size, the caller's terminal restored).
/// </summary>
public sealed partial class EngineCliTests
{
    private const string TerminalImageName = "local/busybox:terminal";

    /// <summary>Pushes "echo INJECTED-$((6*7))" into the input of whatever terminal its stdio is, as an attacker would.</summary>
    private const string InjectorSource = """
        #include <stdio.h>
        #include <sys/ioctl.h>
        int main(void)
        {
            const char *command = "echo INJECTED-$((6*7))\n";
            int injected = 0;
            for (int fd = 0; fd < 3; fd++) {
                int ok = 1;
                for (const char *c = command; *c && ok; c++)
                    ok = ioctl(fd, TIOCSTI, c) == 0;
                injected += ok;
            }
            printf("injected through %d fds\n", injected);
            return 0;
        }
        """;

    /// <summary>The test image plus `tiocsti`, the injector compiled static (busybox has no TIOCSTI tool).</summary>
    private async Task<string> TerminalImage()
    {
        string rootfs = Path.Combine(_temp.Path, "rootfs");
        string source = Path.Combine(_temp.Path, "tiocsti.c");
        File.WriteAllText(source, InjectorSource);
        using (var gcc = Process.Start("gcc", ["-static", "-Os", "-o", Path.Combine(rootfs, "bin", "tiocsti"), source])!)
        {
            gcc.WaitForExit();
            Assert.Equal(0, gcc.ExitCode);
        }
        foreach (var applet in new[] { "stty", "readlink", "kill" })
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        string tarball = Path.Combine(_temp.Path, "terminal.tar");
        using (var tar = Process.Start("tar", ["-C", rootfs, "-cf", tarball, "."])!)
            tar.WaitForExit();
        await Ok("import", "-c", "CMD [\"sh\"]", tarball, TerminalImageName);
        return TerminalImageName;
    }

    /// <summary>A shell's command line for skiff <paramref name="arguments"/>, with this test's store and run root, as <see cref="Skiff.RunAsync(string, string[])"/> runs it.</summary>
    private string SkiffCommand(string arguments) => $"{Skiff.Binary} --root {Root} --runroot {Skiff.RunRootOf(Root)} {arguments}";

    [Fact]
    public async Task ExecGivesTheContainerNoHostTerminalOrFile()
    {
        var image = await TerminalImage();
        await Ok("run", "-d", "--name", "victim", image, "sleep", "1000");
        // A root shell at a terminal, as the user's: what TIOCSTI pushes into the terminal's input, it would run.
        using var terminal = new TerminalSession(_temp.Path, "env -i PS1='host$ ' /bin/busybox sh");
        terminal.WaitFor("host$ ");
        terminal.TypeLine($"{SkiffCommand("exec victim tiocsti")}; {SkiffCommand("exec -i victim tiocsti")}; echo exec-$((1+1))");
        terminal.WaitFor("exec-2");
        terminal.TypeLine("echo typed-$((2+3))");
        var screen = terminal.WaitFor("typed-5");
        Assert.True(TerminalSession.Occurrences(screen, "injected through 0 fds") == 2 && !screen.Contains("INJECTED-42"), screen);

        // Every fd of the exec'd shell is a pipe of the engine (or /dev/null, stdin without -i), even with stdout redirected
        // by the caller to a file and stdin on the terminal; it has no controlling terminal to open. The same holds for
        // an attached run.
        string probe = "for fd in /proc/$$/fd/*; do echo $fd $(readlink $fd); done; (: > /dev/tty) 2>/dev/null && echo tty-opened || echo no-tty";
        string[] commands = ["exec victim", "exec -i victim", "run --rm", "run --rm -i"];
        for (int i = 0; i < commands.Length; i++)
        {
            var output = Path.Combine(_temp.Path, $"probe-{i}.txt");
            var invocation = commands[i].StartsWith("run") ? $"{commands[i]} {image}" : commands[i];
            terminal.TypeLine($"{SkiffCommand(invocation)} sh -c '{probe}' > {output}; echo probed-{i}-$((1+1))");
            terminal.WaitFor($"probed-{i}-2");
            var lines = File.ReadAllLines(output);
            Assert.Contains("no-tty", lines);
            var fds = lines.Where(line => line.StartsWith("/proc/")).ToList();
            Assert.True(fds.Count >= 3, $"{commands[i]}: {string.Join('\n', lines)}");
            Assert.All(fds, line => Assert.Matches(@"^/proc/\d+/fd/\d+ (pipe:\[\d+\]|/dev/null)$", line));
        }

        // A detached exec is not left in the caller's session either.
        terminal.TypeLine($"{SkiffCommand("exec -d victim sh -c '(: > /dev/tty) 2>/dev/null && echo tty-opened > /tmp/detached || echo no-tty > /tmp/detached'")}; echo detached-$((1+1))");
        terminal.WaitFor("detached-2");
        var clock = Stopwatch.StartNew();
        string detached;
        while ((detached = (await Skiff.RunAsync(Root, "exec", "victim", "cat", "/tmp/detached")).Stdout) == "" && clock.Elapsed < TimeSpan.FromSeconds(60))
            await Task.Delay(50);
        Assert.Equal("no-tty\n", detached);
    }

    [Fact]
    public async Task ExecWithoutTerminalForwardsCtrlC()
    {
        await Ok("run", "-d", "--name", "interrupted", Image, "sleep", "1000");
        // The exec'd process is not in our terminal's foreground process group: ^C reaches skiff, which forwards it.
        using var terminal = new TerminalSession(_temp.Path, "env -i PS1='host$ ' /bin/busybox sh");
        terminal.WaitFor("host$ ");
        terminal.TypeLine($"{SkiffCommand("exec interrupted sh -c 'trap \"echo got-int; exit 7\" INT; echo ready-$((2*2)); while :; do sleep 1; done'")}; echo exit-$?");
        terminal.WaitFor("ready-4");
        terminal.Press("C-c");
        var screen = terminal.WaitFor("host$ ", count: 2);
        Assert.True(screen.Contains("got-int") && screen.Contains("exit-7"), screen);
    }

    [Fact]
    public async Task NoDescriptorOfTheCallersOutlivesSkiff()
    {
        // fd 5, left open by the caller without close-on-exec, is the pipe this test reads to its end: the container's
        // monitor (and the runtime, and the container) must not inherit it, or the end never comes.
        var start = new ProcessStartInfo("sh", ["-c", $"exec 5>&1 >/dev/null; {SkiffCommand($"run -d --name inherited {Image} sleep 1000")}; {SkiffCommand("exec inherited sh -c exit")}"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var shell = Process.Start(start)!;
        await shell.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await shell.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, shell.ExitCode);
    }

    [Fact]
    public async Task ExecReturnsWhenItsProcessExitsThoughABackgroundChildKeepsItsOutputOpen()
    {
        await Ok("run", "-d", "--name", "background", Image, "sleep", "1000");
        Assert.Equal("started\n", await OutputOf("exec", "background", "sh", "-c", "sleep 1000 & echo started"));
        Assert.Equal("got-line\n", await OutputOf("exec", "-i", "background", "sh", "-c", "sleep 1001 & read x; echo got-$x"));

        // Bounded: the output ends (and skiff exits) when the process does, though the sleep holds its pipes open.
        async Task<string> OutputOf(params string[] args)
        {
            using var process = Skiff.Start(Root, args);
            await process.StandardInput.WriteAsync("line\n");
            process.StandardInput.Close();
            var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, process.ExitCode);
            return output;
        }
    }

    /// <summary>
    /// Runs skiff <paramref name="arguments"/> in a terminal, between two `stty -g` of that terminal; "terminal-saved"
    /// shows once skiff ended and the second was taken.
    /// </summary>
    private TerminalSession InteractiveSession(string name, string arguments)
    {
        string before = Path.Combine(_temp.Path, $"{name}.before"), after = Path.Combine(_temp.Path, $"{name}.after");
        return new TerminalSession(_temp.Path,
            $"stty -g > {before}; {SkiffCommand(arguments)}; echo skiff-exit-$?; stty -g > {after}; echo terminal-saved; exec sleep 1000");
    }

    /// <summary>The caller's terminal settings before skiff ran and after it ended are the same, and no mode of the terminal's is left switched on.</summary>
    private void AssertTerminalRestored(TerminalSession terminal, string name)
    {
        terminal.WaitFor("terminal-saved");
        Assert.Equal(File.ReadAllText(Path.Combine(_temp.Path, $"{name}.before")), File.ReadAllText(Path.Combine(_temp.Path, $"{name}.after")));
        Assert.False(terminal.KeypadTransmit, "skiff left the terminal in keypad transmit mode");
    }

    /// <summary>
    /// At the container's shell, as a user types: each line echoed once; the terminal's size at start and after a
    /// resize; ^C interrupts a foreground sleep and the shell stays; ^Z stops one; ^\ quits one. The sleeps outlast
    /// every wait, so a key that did not reach the container fails the test.
    /// </summary>
    private static void DriveContainerShell(TerminalSession terminal, int sleep)
    {
        terminal.TypeLine("echo one-$((40+2))");
        var screen = terminal.WaitFor("one-42");
        Assert.True(TerminalSession.Occurrences(screen, "echo one-$((40+2))") == 1, screen);

        terminal.TypeLine("stty size");
        terminal.WaitFor("30 100");

        terminal.TypeLine($"sleep {sleep}; echo after-$((1+1))");
        int sleeping = TerminalSession.WaitForProcess("sleep", $"{sleep}");
        terminal.Press("C-c");
        TerminalSession.WaitForExit(sleeping);
        terminal.TypeLine("echo still-$((3*3))");
        screen = terminal.WaitFor("still-9");
        Assert.DoesNotContain("after-2", screen);

        terminal.TypeLine($"sleep {sleep + 1}");
        sleeping = TerminalSession.WaitForProcess("sleep", $"{sleep + 1}");
        terminal.Press("C-z");
        terminal.WaitFor("Stopped");
        terminal.TypeLine("kill -9 %1");
        TerminalSession.WaitForExit(sleeping);

        terminal.TypeLine($"sleep {sleep + 2}; echo status-$?");
        sleeping = TerminalSession.WaitForProcess("sleep", $"{sleep + 2}");
        terminal.Press("C-\\");
        terminal.WaitFor("status-131"); // 128 + SIGQUIT

        // SIGWINCH reaches skiff while the keys travel on their own way, as when a user resizes and types at once:
        // ask until the new size is there.
        terminal.Resize(120, 40);
        for (int attempt = 0; !terminal.Screen().Contains("40 120"); attempt++)
        {
            Assert.True(attempt < 20, $"the container's terminal was not resized:\n{terminal.Screen()}");
            terminal.TypeLine($"stty size; echo asked-$(({attempt}+1000))");
            terminal.WaitFor($"asked-{attempt + 1000}");
        }
    }

    /// <summary>skiff <paramref name="arguments"/> runs a shell in a container: driven, then left with `exit CODE`, which is skiff's status.</summary>
    private void DriveShellToItsExit(string name, string arguments, int sleep, int exitCode)
    {
        using var terminal = InteractiveSession(name, arguments);
        terminal.WaitFor("/ # ");
        DriveContainerShell(terminal, sleep);
        terminal.TypeLine($"exit {exitCode}");
        AssertTerminalRestored(terminal, name);
        Assert.Contains($"skiff-exit-{exitCode}", terminal.Screen());
    }

    [Fact]
    public async Task RunInteractiveTerminal()
    {
        await TerminalImage();
        DriveShellToItsExit("run", $"run -it --rm --name tty-run {TerminalImageName} sh", 7100, exitCode: 3);
    }

    [Fact]
    public async Task ExecInteractiveTerminal()
    {
        await TerminalImage();
        await Ok("run", "-d", "--name", "tty-exec", TerminalImageName, "sleep", "1000");
        DriveShellToItsExit("exec", "exec -it tty-exec sh", 7200, exitCode: 4);
    }

    [Fact]
    public async Task StartAttachedInteractiveTerminalDetaches()
    {
        await TerminalImage();
        await Ok("create", "-it", "--name", "tty-start", TerminalImageName, "sh");
        using var terminal = InteractiveSession("start", "start -ai tty-start");
        terminal.WaitFor("/ # ");
        DriveContainerShell(terminal, 7300);
        terminal.Press("C-p", "C-q");
        AssertTerminalRestored(terminal, "start");
        Assert.Contains("skiff-exit-0", terminal.Screen());
        Assert.NotEmpty((await Ok("ps", "-q", "--filter", "name=tty-start")).Stdout); // still running
    }

    [Fact]
    public async Task AttachToTerminalDetachesAndSurvivesTheClientsEnd()
    {
        await TerminalImage();
        await Ok("run", "-dit", "--name", "tty-attach", TerminalImageName, "sh");
        Attach("attach", "--detach-keys ctrl-x,y", terminal =>
        {
            DriveContainerShell(terminal, 7400);
            terminal.Press("C-x", "y");
        });
        Attach("attach-killed", "", terminal =>
        {
            using var kill = Process.Start("kill", ["-TERM", terminal.WaitForChildOfShell().ToString()])!;
            kill.WaitForExit();
        });
        Assert.NotEmpty((await Ok("ps", "-q", "--filter", "name=tty-attach")).Stdout); // still running

        void Attach(string name, string flags, Action<TerminalSession> session)
        {
            using var terminal = InteractiveSession(name, $"attach {flags} tty-attach");
            // Nothing shows until the shell is asked for something: its prompt was written before we attached.
            terminal.TypeLine($"echo attached-$((5+{name.Length}))");
            terminal.WaitFor($"attached-{5 + name.Length}");
            session(terminal);
            AssertTerminalRestored(terminal, name);
        }
    }
}
