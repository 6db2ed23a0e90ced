namespace Skiff.Api;

/// <summary>
/// podman's --time: the service exits once no request has run for that long. A request counts until it ends, so a
/// long attach, wait or log stream keeps the service up.
/// </summary>
internal sealed class IdleClock(TimeSpan? limit, TimeProvider time)
{
    private readonly Lock _lock = new();
    private int _active;
    private long _idleSince = time.GetTimestamp();

    public async Task Track(Func<Task> request)
    {
        lock (_lock)
            _active++;
        try
        {
            await request();
        }
        finally
        {
            lock (_lock)
            {
                _active--;
                _idleSince = time.GetTimestamp();
            }
        }
    }

    /// <summary>Whether the service has been idle past its limit (never without one).</summary>
    public bool Expired()
    {
        lock (_lock)
            return limit is { } idle && _active == 0 && time.GetElapsedTime(_idleSince) >= idle;
    }

    /// <summary>Returns when the service has been idle past its limit, or when <paramref name="cancel"/> fires.</summary>
    public async Task WaitExpiredAsync(CancellationToken cancel)
    {
        if (limit is null)
        {
            await Task.Delay(Timeout.Infinite, cancel).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Clamp(limit.Value.TotalMilliseconds / 4, 50, 1000)), time);
        while (!Expired() && await timer.WaitForNextTickAsync(cancel).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default))
        {
        }
    }
}
