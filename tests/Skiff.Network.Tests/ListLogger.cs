using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Skiff.Network.Tests;

/// <summary>Keeps what is logged, for tests to look at; with <c>echo</c>, also writes it to stderr.</summary>
internal sealed class ListLogger(bool echo = false) : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var line = $"{logLevel}: {formatter(state, exception)}";
        Lines.Enqueue(line);
        if (echo)
            Console.Error.WriteLine(line);
    }
}
