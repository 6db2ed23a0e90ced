using System.Diagnostics;
using System.Text;
using Skiff.Images.Service;

namespace Skiff.Cli;

/// <summary>
/// Shows a pull's layers. On a terminal: one line per layer with a bar, bytes and speed, redrawn in place at most
/// ten times a second. Otherwise: one plain line per layer when its phase changes (logs and CI stay readable).
/// </summary>
internal sealed class PullProgressView(TextWriter output, bool terminal) : IProgress<PullProgress>, IDisposable
{
    private const int BarWidth = 30;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _lock = new();
    private readonly List<string> _order = [];
    private readonly Dictionary<string, (PullProgress Last, long StartTicks)> _layers = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastDraw;
    private int _drawnLines;

    public void Report(PullProgress value)
    {
        lock (_lock)
        {
            bool known = _layers.TryGetValue(value.Layer, out var previous);
            if (!known)
                _order.Add(value.Layer);
            _layers[value.Layer] = (value, known ? previous.StartTicks : _clock.ElapsedTicks);
            if (!terminal)
            {
                if (!known || previous.Last.Phase != value.Phase)
                    output.WriteLine($"{value.Layer}: {Describe(value.Phase)}");
                return;
            }
            bool final = value.Phase is PullPhase.Complete or PullPhase.AlreadyExists;
            if (final || _lastDraw is not { } last || _clock.Elapsed - last >= RedrawInterval)
                Draw();
        }
    }

    /// <summary>Draws the final state (every bar complete) on a terminal.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            if (terminal)
                Draw();
        }
    }

    public void Dispose() => output.Flush();

    private void Draw()
    {
        _lastDraw = _clock.Elapsed;
        var text = new StringBuilder();
        if (_drawnLines > 0)
            text.Append($"\x1b[{_drawnLines}A"); // back to the first layer line
        foreach (string layer in _order)
        {
            var (last, start) = _layers[layer];
            text.Append("\x1b[2K").Append(layer).Append(": ").Append(Describe(last.Phase));
            if (last.Phase == PullPhase.Downloading && last.Total > 0)
            {
                int filled = (int)(BarWidth * Math.Clamp((double)last.Bytes / last.Total, 0, 1));
                double seconds = Math.Max((_clock.ElapsedTicks - start) / (double)Stopwatch.Frequency, 0.001);
                text.Append(" [").Append('=', filled).Append(filled < BarWidth ? ">" : "").Append(' ', Math.Max(0, BarWidth - filled - 1)).Append("] ")
                    .Append(Output.Size(last.Bytes)).Append('/').Append(Output.Size(last.Total))
                    .Append(' ').Append(Output.Size(last.Bytes / seconds)).Append("/s");
            }
            text.Append('\n');
        }
        _drawnLines = _order.Count;
        output.Write(text.ToString());
        output.Flush();
    }

    private static string Describe(PullPhase phase) => phase switch
    {
        PullPhase.Waiting => "Waiting",
        PullPhase.Downloading => "Downloading",
        PullPhase.Extracting => "Extracting",
        PullPhase.Complete => "Pull complete",
        PullPhase.AlreadyExists => "Already exists",
        _ => phase.ToString(),
    };
}
