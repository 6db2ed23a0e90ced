using System.Runtime.ExceptionServices;

namespace Skiff.Runtime.Launch;

/// <summary>
/// One piece of work on its own thread, whose exception resurfaces on the thread that joins it.
/// A dedicated thread rather than a Task: the runtime lives for milliseconds, and starting the
/// thread pool costs more than the work it would overlap.
/// </summary>
internal sealed class BackgroundWork
{
    private readonly Thread _thread;
    private ExceptionDispatchInfo? _failure;

    private BackgroundWork(Action work)
    {
        _thread = new Thread(() =>
        {
            try
            {
                work();
            }
            catch (Exception e)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
            }
        }, maxStackSize: 256 * 1024) { IsBackground = true, Name = "skiff background work" };
    }

    public static BackgroundWork Start(Action work)
    {
        var background = new BackgroundWork(work);
        background._thread.Start();
        return background;
    }

    /// <summary>Waits for the work and rethrows what it threw, with its original stack.</summary>
    public void Join()
    {
        _thread.Join();
        _failure?.Throw();
    }

    /// <summary>Waits for the work on a path that is already failing for another reason.</summary>
    public void JoinIgnoringFailure() => _thread.Join();
}
