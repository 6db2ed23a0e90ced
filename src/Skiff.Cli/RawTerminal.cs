using System.Runtime.InteropServices;
using Skiff.Engine;
using Libc = Skiff.Interop.Interop.Libc;
using Terminal = Skiff.Interop.Interop.Terminal;

namespace Skiff.Cli;

/// <summary>
/// The caller's terminal in raw mode (cfmakeraw's flags, as docker's client sets them) while a container's pty is
/// the terminal: every key, ^C ^Z ^\ included, reaches the container's pty as a byte, and that pty does the echo,
/// line editing and signals. Restored on every way out: <see cref="Dispose"/> (the container exited, detach keys,
/// an error) and a SIGTERM, SIGHUP, SIGINT or SIGQUIT sent to skiff, before .NET's default action ends it.
///
/// Input must then be read from fd 0 itself (<see cref="OpenStandard"/>), never through System.Console: .NET's console
/// reader puts the terminal back in its own mode (no echo, no canonical mode, but ^C a signal to us) and echoes and
/// edits lines itself, so each line was echoed twice, once by it and once by the container.
/// </summary>
internal sealed class RawTerminal : IDisposable
{
    private const int Input = 0;
    private readonly Terminal.Settings _saved;
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _restored;

    private RawTerminal()
    {
        _saved = Terminal.EnterRawMode(Input);
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
            _registrations.Add(PosixSignalRegistration.Create(signal, _ => Restore()));
    }

    /// <summary>Raw mode when stdin is a terminal; null (nothing to do) when it is not.</summary>
    public static RawTerminal? Enter() => Libc.IsATty(Input) == 1 ? new RawTerminal() : null;

    /// <summary>
    /// docker's client check (In.CheckTty): a terminal session whose input is a pipe or a file cannot work (no raw
    /// mode, no size, the container's line discipline would echo the input back), so it is refused before anything
    /// is made, with docker's words and status.
    /// </summary>
    public static void RequireForInput(bool attachInput, bool tty)
    {
        if (attachInput && tty && Libc.IsATty(Input) != 1)
            throw new CliFailure(ErrorKind.FailedPrecondition, "the input device is not a TTY");
    }

    /// <summary>
    /// The caller's stdin (0), stdout (1) or stderr (2) as a stream of plain read(2) and write(2) calls. Not through
    /// System.Console: on a terminal, its streams also switch the terminal to keypad transmit mode (the cursor keys
    /// then send other codes to the container) and leave it so after we exit.
    /// </summary>
    public static Stream OpenStandard(int fd) => new Skiff.Interop.DescriptorStream(fd, write: fd != Input);

    /// <summary>The size of the caller's terminal (its output's, as docker asks), or null when stdout is not one.</summary>
    public static (ushort Rows, ushort Columns)? WindowSize() => Terminal.WindowSize(1);

    /// <summary>Calls <paramref name="resized"/> with the new size whenever the caller's terminal window changes.</summary>
    public static IDisposable OnResize(Action<ushort, ushort> resized) => PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ =>
    {
        if (WindowSize() is var (rows, columns))
            resized(rows, columns);
    });

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
        Restore();
    }

    private void Restore()
    {
        if (Interlocked.Exchange(ref _restored, 1) == 0)
            Terminal.Restore(Input, _saved);
    }
}
