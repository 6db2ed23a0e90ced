using System.Text;
using Skiff.Build.Execution;

namespace Skiff.Build.Tests.Execution;

public sealed class TtyBuildProgressTests
{
    private TimeSpan _now = TimeSpan.FromSeconds(100);
    private (int Rows, int Columns) _size = (30, 60);
    private readonly StringWriter _screen = new();

    private TtyBuildProgress View() => new(_screen, () => _now, () => _size);

    [Fact]
    public void AFrameHasTheHeaderTheFinishedStepsWithTheirTimesAndTheRunningOneWithItsTimerAndLastLines()
    {
        var view = View();
        view.Step(1, 4, "[1/4] FROM busybox");
        view.Done(1, cached: false, TimeSpan.Zero);
        view.Step(2, 4, "[2/4] COPY a /a");
        view.Done(2, cached: true, TimeSpan.FromSeconds(3));
        _now += TimeSpan.FromSeconds(1);
        view.Step(3, 4, "[3/4] RUN make");
        using (var output = view.Output(3))
            output.Write("compiling\nlinking\n"u8);
        _now += TimeSpan.FromSeconds(2.2);

        Assert.Equal(
        [
            "[+] Building 3.2s (2/4)",
            " => [1/4] FROM busybox                                 0.0s",
            " => CACHED [2/4] COPY a /a                             0.0s",
            " => [3/4] RUN make                                     2.2s",
            " => => # compiling",
            " => => # linking",
        ], view.Frame(final: false, succeeded: false));

        _now += TimeSpan.FromSeconds(1);
        view.Done(3, cached: false, TimeSpan.FromSeconds(3.21));
        var last = view.Frame(final: true, succeeded: true);
        Assert.Equal("[+] Building 4.2s (3/4) FINISHED", last[0]);
        Assert.Equal(" => [3/4] RUN make                                     3.2s", last[^1]); // its output gone with it
    }

    [Fact]
    public void OnlyTheLastLinesOfAStepAreShownAndItsControlCharactersCannotReachTheTerminal()
    {
        var view = View();
        view.Step(1, 1, "[1/1] RUN noisy");
        using var output = view.Output(1);
        for (int i = 0; i < 20; i++)
            output.Write(Encoding.UTF8.GetBytes($"line {i}\n"));
        output.Write("\u001b[2J\u001b]0;title\u0007cleared?\r\n"u8);
        var frame = view.Frame(final: false, succeeded: false);
        var logs = frame.Where(l => l.StartsWith(" => => # ", StringComparison.Ordinal)).ToList();
        Assert.Equal(TtyBuildProgress.LogLines, logs.Count);
        Assert.Equal(" => => # line 15", logs[0]);
        Assert.Equal(" => => #  [2J ]0;title cleared?", logs[^1]);
        Assert.DoesNotContain(frame, line => line.Any(char.IsControl));
    }

    [Fact]
    public void RedrawsGoBackOverTheLastFrameAndClearWhatItLeavesBelow()
    {
        var view = View();
        view.Step(1, 2, "[1/2] FROM busybox");
        view.Redraw();
        Assert.Equal("\r\x1b[2K[+] Building 0.0s (0/2)\n\r\x1b[2K => [1/2] FROM busybox                                 0.0s\n\x1b[J", _screen.ToString());
        _screen.GetStringBuilder().Clear();
        view.Done(1, cached: false, TimeSpan.FromSeconds(0.5));
        view.Step(2, 2, "[2/2] RUN true");
        _now += TimeSpan.FromSeconds(1);
        view.Redraw();
        string second = _screen.ToString();
        Assert.StartsWith("\x1b[2A\r\x1b[2K[+] Building 1.0s (1/2)\n", second, StringComparison.Ordinal);
        Assert.Equal(3, second.Count(c => c == '\n'));
        Assert.EndsWith("\x1b[J", second, StringComparison.Ordinal);
    }

    [Fact]
    public void AFrameFitsTheTerminalByLeavingOutTheOldestFinishedStepsButTheLastFrameHasThemAll()
    {
        _size = (6, 60);
        var view = View();
        for (int i = 1; i <= 10; i++)
        {
            view.Step(i, 11, $"[{i}/11] RUN step {i}");
            view.Done(i, cached: false, TimeSpan.FromSeconds(0.1));
        }
        view.Step(11, 11, "[11/11] RUN last");
        using (var output = view.Output(11))
            output.Write("working\n"u8);
        var frame = view.Frame(final: false, succeeded: false);
        Assert.True(frame.Count <= _size.Rows - 1, string.Join('\n', frame));
        Assert.Equal(" => [11/11] RUN last                                   0.0s", frame[^2]);
        Assert.Equal(" => => # working", frame[^1]);
        Assert.Contains(frame, l => l.Contains("RUN step 10", StringComparison.Ordinal));
        Assert.DoesNotContain(frame, l => l.Contains("RUN step 1 ", StringComparison.Ordinal));

        view.Done(11, cached: false, TimeSpan.FromSeconds(1));
        var last = view.Frame(final: true, succeeded: true);
        Assert.Equal(12, last.Count);
        Assert.All(last, line => Assert.True(line.Length < _size.Columns, line));
    }

    [Fact]
    public void AFailedBuildMarksTheStepThatWasRunningAndTheWarningsComeAfterTheLastFrame()
    {
        var view = View();
        view.Warning("[Warning] One or more build-args [X] were not consumed");
        view.Step(1, 2, "[1/2] FROM busybox");
        view.Done(1, cached: false, TimeSpan.Zero);
        view.Step(2, 2, "[2/2] RUN false");
        _now += TimeSpan.FromSeconds(0.4);
        view.Finish(succeeded: false);
        view.Redraw(); // after the end, nothing
        string text = _screen.ToString();
        Assert.Contains("[+] Building 0.4s (1/2)\n", text);
        Assert.DoesNotContain("FINISHED", text);
        Assert.Contains(" => ERROR [2/2] RUN false", text);
        Assert.EndsWith("\x1b[J[Warning] One or more build-args [X] were not consumed\n", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void ALongDescriptionIsCutToLeaveItsTimeOnTheLine()
    {
        _size = (30, 40);
        var view = View();
        view.Step(1, 1, "[1/1] RUN " + new string('x', 100));
        var line = view.Frame(final: false, succeeded: false)[1];
        Assert.Equal(39, line.Length);
        Assert.EndsWith(" 0.0s", line, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTimerRedrawsUntilTheEnd()
    {
        var synced = TextWriter.Synchronized(_screen);
        using var view = new TtyBuildProgress(synced, () => _now, () => _size);
        view.Step(1, 1, "[1/1] FROM busybox");
        view.Start();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Frames() < 3 && clock.Elapsed < TimeSpan.FromSeconds(10))
            Thread.Sleep(20);
        Assert.True(Frames() >= 3, "the view was not redrawn by its timer");
        view.Finish(succeeded: true);
        int frames = Frames();
        Thread.Sleep(3 * TtyBuildProgress.RedrawInterval);
        Assert.Equal(frames, Frames());

        int Frames()
        {
            lock (synced)
                return _screen.ToString().Split("[+] Building").Length - 1;
        }
    }
}
