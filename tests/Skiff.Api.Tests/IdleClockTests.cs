namespace Skiff.Api.Tests;

public sealed class IdleClockTests
{
    private sealed class ManualTime : TimeProvider
    {
        public long Now { get; set; }
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Now;
    }

    [Fact]
    public async Task ExpiresAfterTheLimitWithoutRequests()
    {
        var time = new ManualTime();
        var idle = new IdleClock(TimeSpan.FromSeconds(5), time);
        Assert.False(idle.Expired());
        var release = new TaskCompletionSource();
        var request = idle.Track(() => release.Task);
        time.Now += TimeSpan.FromSeconds(10).Ticks;
        Assert.False(idle.Expired()); // a request running, however long, keeps the service up
        release.SetResult();
        await request;
        Assert.False(idle.Expired()); // idle from the request's end
        time.Now += TimeSpan.FromSeconds(5).Ticks;
        Assert.True(idle.Expired());
    }

    [Fact]
    public void NeverExpiresWithoutALimit()
    {
        var time = new ManualTime();
        var idle = new IdleClock(null, time);
        time.Now += TimeSpan.FromDays(1).Ticks;
        Assert.False(idle.Expired());
    }
}
