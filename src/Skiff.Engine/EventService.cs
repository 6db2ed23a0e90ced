using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Skiff.Engine.Containers;
using Skiff.Engine.Events;

namespace Skiff.Engine;

/// <summary>
/// What `events` asks: past events from <see cref="Since"/> and up to <see cref="Until"/>, then (with
/// <see cref="Follow"/>) new ones as they happen; <see cref="Filters"/> are docker's KEY=VALUE filters.
/// </summary>
public sealed record EventQuery
{
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public IReadOnlyList<string> Filters { get; init; } = [];

    /// <summary>docker's rule: without an end, or with one still ahead, new events are followed until then.</summary>
    public bool Follow => Until is not { } until || until > DateTimeOffset.UtcNow;
}

/// <summary>
/// The engine's events (`host.Events`): operations record what they did, front ends read them, past and future,
/// as a cancellable stream. <see cref="EventJournal"/> is where they are kept.
/// </summary>
public sealed class EventService(EventJournal journal)
{
    /// <summary>Records <paramref name="e"/>; a failure to write it is logged, never thrown (what it tells of happened all the same).</summary>
    public void Record(EngineEvent e) => journal.TryRecord(e);

    /// <summary>A container event with docker's attributes: the container's labels, its image and name, then <paramref name="extra"/>.</summary>
    public void RecordContainer(ContainerRecord container, string action, params (string Key, string Value)[] extra)
        => ContainerEvents.Record(journal, container, action, extra);

    /// <summary>An image event as docker's daemon logs it: the actor (an image ID or a reference) and the name attribute.</summary>
    public void RecordImage(string action, string actorId, string name)
        => Record(EngineEvent.Now(EngineEvent.Image, action, actorId, new Dictionary<string, string> { ["name"] = name }));

    /// <summary>
    /// The events <paramref name="query"/> asks for, oldest first, as they are read: following ends when the query's
    /// end passes or <paramref name="cancel"/> fires (then the enumeration just ends). A malformed filter fails at
    /// once, before any event is read.
    /// </summary>
    public IAsyncEnumerable<EngineEvent> ReadAsync(EventQuery query, CancellationToken cancel = default)
    {
        var filter = EventFilter.Parse(query.Filters);
        return Stream(filter, query, cancel);
    }

    private async IAsyncEnumerable<EngineEvent> Stream(EventFilter filter, EventQuery query, [EnumeratorCancellation] CancellationToken cancel)
    {
        // The journal waits in poll(2) for new lines: it runs on a thread of its own, and the reader awaits the channel.
        var channel = Channel.CreateBounded<EngineEvent>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var reader = Task.Factory.StartNew(() =>
        {
            try
            {
                foreach (var e in journal.Read(query.Since, query.Until, query.Follow, stop.Token))
                {
                    if (filter.Matches(e))
                        channel.Writer.WriteAsync(e, stop.Token).AsTask().GetAwaiter().GetResult();
                }
                channel.Writer.Complete();
            }
            catch (OperationCanceledException)
            {
                channel.Writer.Complete();
            }
            catch (Exception error)
            {
                channel.Writer.Complete(error);
            }
        }, TaskCreationOptions.LongRunning);
        try
        {
            while (await WaitToReadAsync(channel.Reader, cancel))
            {
                while (channel.Reader.TryRead(out var e))
                    yield return e;
            }
        }
        finally
        {
            stop.Cancel();
            await reader;
        }
    }

    private static async ValueTask<bool> WaitToReadAsync(ChannelReader<EngineEvent> reader, CancellationToken cancel)
    {
        try
        {
            return await reader.WaitToReadAsync(cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return false;
        }
    }
}
