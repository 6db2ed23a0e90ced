using System.Globalization;
using System.Text;

namespace Skiff.Build.Execution;

/// <summary>
/// BuildKit's tty progress view (<c>--progress=tty</c>, and <c>auto</c> on a terminal): a header with the time so far
/// and the steps done, then one line per step with its time on the right (a running one's counting up, a cached
/// one marked CACHED), and under a running step the last lines of its output, the whole redrawn in place with ANSI
/// cursor movements. Events only change the state; the view is drawn by <see cref="Redraw"/>, which a timer calls
/// every <see cref="RedrawInterval"/> (ten times a second, as BuildKit's), so a step printing thousands of lines
/// costs no more terminal output than a quiet one. <see cref="Finish"/> draws the last frame, every step in it, and
/// then the warnings. The clock and the terminal's size are given, so that frames can be tested.
/// </summary>
public sealed class TtyBuildProgress : IBuildProgress, IDisposable
{
    public static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The output lines a running step shows (BuildKit's tty view shows a few).</summary>
    public const int LogLines = 6;

    private readonly TextWriter _terminal;
    private readonly Func<TimeSpan> _clock;
    private readonly Func<(int Rows, int Columns)> _size;
    private readonly TimeSpan _started;
    private readonly Lock _lock = new();
    private readonly List<StepView> _steps = [];
    private readonly List<string> _warnings = [];
    private Timer? _timer;
    private int _total;
    private int _drawnLines;
    private bool _finished;

    /// <param name="terminal">Where frames are written (the terminal on stderr).</param>
    /// <param name="clock">Time since any fixed start (a Stopwatch's elapsed time).</param>
    /// <param name="size">The terminal's rows and columns, asked at every frame (the window may be resized).</param>
    public TtyBuildProgress(TextWriter terminal, Func<TimeSpan> clock, Func<(int Rows, int Columns)> size)
    {
        _terminal = terminal;
        _clock = clock;
        _size = size;
        _started = clock();
    }

    private sealed class StepView(int number, string description, TimeSpan started)
    {
        public int Number { get; } = number;
        public string Description { get; } = description;
        public TimeSpan Started { get; } = started;
        public TimeSpan? Elapsed { get; set; }
        public bool Cached { get; set; }
        public Queue<string> Logs { get; } = new();
    }

    /// <summary>Starts the timer that redraws the view every <see cref="RedrawInterval"/> until <see cref="Finish"/>.</summary>
    public void Start() => _timer ??= new Timer(_ => Redraw(), null, TimeSpan.Zero, RedrawInterval);

    public void Step(int number, int total, string description)
    {
        lock (_lock)
        {
            _total = total;
            _steps.Add(new StepView(number, description, _clock()));
        }
    }

    public Stream Output(int number)
    {
        lock (_lock)
        {
            var step = _steps.First(s => s.Number == number);
            // Control characters (escape sequences of the step's programs included) become spaces: the step is
            // untrusted, and its bytes must not move the cursor or change the terminal under the view.
            return new OutputLines(line =>
            {
                var shown = string.Create(line.Length, line, (span, source) =>
                {
                    for (int i = 0; i < source.Length; i++)
                        span[i] = char.IsControl(source[i]) ? ' ' : source[i];
                });
                lock (_lock)
                {
                    step.Logs.Enqueue(shown);
                    while (step.Logs.Count > LogLines)
                        step.Logs.Dequeue();
                }
            });
        }
    }

    public void Done(int number, bool cached, TimeSpan elapsed)
    {
        lock (_lock)
        {
            var step = _steps.First(s => s.Number == number);
            step.Elapsed = cached ? TimeSpan.Zero : elapsed;
            step.Cached = cached;
            step.Logs.Clear();
        }
    }

    /// <summary>Kept for after the last frame, as BuildKit prints its warnings at the end.</summary>
    public void Warning(string message)
    {
        lock (_lock)
            _warnings.Add(message);
    }

    /// <summary>Draws the current frame over the last one (nothing after <see cref="Finish"/>).</summary>
    public void Redraw()
    {
        lock (_lock)
        {
            if (!_finished)
                Draw(Frame(final: false, succeeded: false));
        }
    }

    /// <summary>
    /// Stops the redraws and draws the last frame: every step, the header marked FINISHED when
    /// <paramref name="succeeded"/>, a step still running then marked ERROR; then the warnings.
    /// </summary>
    public void Finish(bool succeeded)
    {
        _timer?.Dispose();
        lock (_lock)
        {
            if (_finished)
                return;
            _finished = true;
            Draw(Frame(final: true, succeeded));
            foreach (var warning in _warnings)
                _terminal.WriteLine(warning);
            _terminal.Flush();
        }
    }

    public void Dispose() => _timer?.Dispose();

    /// <summary>
    /// The lines of the view now. A frame that is not the last fits the terminal (one row spare for the cursor):
    /// the oldest finished steps are left out first, then the top lines, so that the cursor never has to move above
    /// the screen. The last frame has every step and may scroll.
    /// </summary>
    public IReadOnlyList<string> Frame(bool final, bool succeeded)
    {
        lock (_lock)
        {
            var (rows, columns) = _size();
            columns = Math.Max(columns, 20);
            var now = _clock();
            int done = _steps.Count(s => s.Elapsed is not null);
            string header = $"[+] Building {Seconds(now - _started)} ({done}/{Math.Max(_total, _steps.Count)})";
            if (final && succeeded)
                header += " FINISHED";
            var blocks = _steps.OrderBy(s => s.Number).Select(step => (step.Elapsed is not null, Lines: StepLines(step, now, final, columns))).ToList();
            if (!final)
            {
                int limit = Math.Max(rows - 2, 1);
                while (blocks.Sum(b => b.Lines.Count) > limit && blocks.FindIndex(b => b.Item1) is var oldest and >= 0)
                    blocks.RemoveAt(oldest);
                var lines = blocks.SelectMany(b => b.Lines).ToList();
                return [Fit(header, columns), .. lines.Skip(Math.Max(0, lines.Count - limit))];
            }
            return [Fit(header, columns), .. blocks.SelectMany(b => b.Lines)];
        }
    }

    private static List<string> StepLines(StepView step, TimeSpan now, bool final, int columns)
    {
        bool failed = final && step.Elapsed is null;
        string prefix = step.Cached ? "CACHED " : failed ? "ERROR " : "";
        var lines = new List<string> { Columns(" => " + prefix + step.Description, Seconds(step.Elapsed ?? now - step.Started), columns) };
        lines.AddRange(step.Logs.Select(log => Fit(" => => # " + log, columns)));
        return lines;
    }

    /// <summary><paramref name="left"/> cut to leave room for <paramref name="right"/>, which ends one column before the edge.</summary>
    private static string Columns(string left, string right, int columns)
    {
        int room = columns - 1 - right.Length - 1;
        if (left.Length > room)
            left = left[..Math.Max(room, 0)];
        return left.PadRight(room + 1) + right;
    }

    private static string Fit(string line, int columns) => line.Length < columns ? line : line[..(columns - 1)];

    private static string Seconds(TimeSpan time) => Math.Max(time.TotalSeconds, 0).ToString("0.0", CultureInfo.InvariantCulture) + "s";

    /// <summary>Back to the first line of the last frame, each line cleared as it is written, what is left below cleared.</summary>
    private void Draw(IReadOnlyList<string> lines)
    {
        var text = new StringBuilder();
        if (_drawnLines > 0)
            text.Append("\x1b[").Append(_drawnLines).Append('A');
        foreach (var line in lines)
            text.Append('\r').Append("\x1b[2K").Append(line).Append('\n');
        text.Append("\x1b[J");
        _drawnLines = lines.Count;
        _terminal.Write(text.ToString());
        _terminal.Flush();
    }
}
