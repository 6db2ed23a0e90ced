using System.Diagnostics;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// A real terminal for skiff, as a user at a terminal emulator has one: a tmux pane on a server of the test's own
/// (its own socket, so nothing is shared with other tests or a user's tmux), typed into with send-keys and read
/// back with capture-pane. Every wait polls the screen (or the host's processes) until what it waits for is there.
/// </summary>
internal sealed class TerminalSession : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _socket;

    /// <summary>Starts <paramref name="command"/> (run by /bin/sh) in a pane of <paramref name="columns"/> x <paramref name="rows"/>.</summary>
    public TerminalSession(string directory, string command, int columns = 100, int rows = 30)
    {
        var name = Path.Combine(directory, $"tmux-{Guid.NewGuid():N}");
        _socket = name + ".sock";
        // No status line: the pane is the whole window, so its size is what the window is resized to.
        File.WriteAllText(name + ".conf", "set-option -g status off\nset-option -g history-limit 10000\n");
        Tmux("-f", name + ".conf", "new-session", "-d", "-x", columns.ToString(), "-y", rows.ToString(), "-s", "test", "/bin/sh", "-c", command);
    }

    /// <summary>The pid of the pane's /bin/sh.</summary>
    public int ShellPid => int.Parse(Tmux("display-message", "-p", "-t", "test", "#{pane_pid}").Trim());

    /// <summary>Whether the terminal is in keypad transmit mode (cursor keys or keypad in application mode), which a program sets with escape sequences.</summary>
    public bool KeypadTransmit => Tmux("display-message", "-p", "-t", "test", "#{keypad_cursor_flag}#{keypad_flag}").Trim() != "00";

    /// <summary>Types <paramref name="text"/> as it is (no key names).</summary>
    public void Type(string text) => Tmux("send-keys", "-t", "test", "-l", text);

    /// <summary>Presses keys by tmux's names: Enter, C-c, C-z, C-\\, C-p...</summary>
    public void Press(params string[] keys) => Tmux(["send-keys", "-t", "test", .. keys]);

    public void TypeLine(string line)
    {
        Type(line);
        Press("Enter");
    }

    /// <summary>The pane's screen and scrollback, lines joined where the terminal wrapped them.</summary>
    public string Screen() => Tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "test");

    public void Resize(int columns, int rows) => Tmux("resize-window", "-t", "test", "-x", columns.ToString(), "-y", rows.ToString());

    /// <summary>Waits until the screen contains <paramref name="text"/> <paramref name="count"/> times; returns the screen.</summary>
    public string WaitFor(string text, int count = 1)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var screen = Screen();
            if (Occurrences(screen, text) >= count)
                return screen;
            if (clock.Elapsed > Patience)
                throw new TimeoutException($"the terminal did not show \"{text}\" ({count} times) within {Patience.TotalSeconds} s; it shows:\n{screen}");
            Thread.Sleep(50);
        }
    }

    public static int Occurrences(string screen, string text)
    {
        int count = 0;
        for (int at = screen.IndexOf(text, StringComparison.Ordinal); at >= 0; at = screen.IndexOf(text, at + text.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    /// <summary>Waits until a host process runs with exactly <paramref name="argv"/> (containers' processes are visible from the host); returns its pid.</summary>
    public static int WaitForProcess(params string[] argv)
    {
        var wanted = string.Join('\0', argv) + "\0";
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), out int pid))
                    continue;
                try
                {
                    if (File.ReadAllText(Path.Combine(directory, "cmdline")) == wanted)
                        return pid;
                }
                catch (IOException)
                {
                    // gone meanwhile
                }
            }
            if (clock.Elapsed > Patience)
                throw new TimeoutException($"no process \"{string.Join(' ', argv)}\" started within {Patience.TotalSeconds} s");
            Thread.Sleep(50);
        }
    }

    /// <summary>Waits until the process <paramref name="pid"/> is gone.</summary>
    public static void WaitForExit(int pid)
    {
        var clock = Stopwatch.StartNew();
        while (IsRunning(pid))
        {
            if (clock.Elapsed > Patience)
                throw new TimeoutException($"process {pid} did not exit within {Patience.TotalSeconds} s");
            Thread.Sleep(50);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Length > 0; // a zombie's is empty
        }
        catch (IOException)
        {
            return false; // reaped (ESRCH while it was read, or no such directory)
        }
    }

    /// <summary>The children of <paramref name="pid"/> (from /proc, each thread's list).</summary>
    public static IReadOnlyList<int> Children(int pid)
        => [.. Directory.EnumerateDirectories($"/proc/{pid}/task")
            .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse)];

    /// <summary>Waits until the pane's shell has a child (the command it started) and returns its pid.</summary>
    public int WaitForChildOfShell()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (Children(ShellPid) is [var child, ..])
                return child;
            if (clock.Elapsed > Patience)
                throw new TimeoutException("the terminal's shell started no command");
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        try
        {
            Tmux("kill-server");
        }
        catch (InvalidOperationException)
        {
            // the server is gone already (its last pane exited)
        }
        File.Delete(_socket);
    }

    private string Tmux(params string[] args)
    {
        var start = new ProcessStartInfo("tmux", ["-S", _socket, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The pane's terminal type, whatever the test runner's is (CI has none).
        start.Environment["TERM"] = "xterm";
        start.Environment.Remove("TMUX");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"tmux {string.Join(' ', args)}: {error.Trim()}");
        return output.Result;
    }
}
