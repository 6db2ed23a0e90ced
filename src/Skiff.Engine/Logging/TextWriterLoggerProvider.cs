using Microsoft.Extensions.Logging;

namespace Skiff.Engine.Logging;

/// <summary>
/// Writes what the engine logs as one line per message, "skiff: warning: ...", to a text writer (a CLI's stderr,
/// a monitor's monitor.log). Debug and trace messages are left out.
/// </summary>
public sealed class TextWriterLoggerProvider(TextWriter writer) : ILoggerProvider
{
    private readonly Lock _lock = new();

    /// <summary>A factory with this provider only, for a front end that has no logging of its own.</summary>
    public static ILoggerFactory Factory(TextWriter writer) => new SingleProviderFactory(new TextWriterLoggerProvider(writer));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private void Write(LogLevel level, string message)
    {
        var label = level switch
        {
            LogLevel.Information => "",
            LogLevel.Warning => "warning: ",
            _ => "error: ",
        };
        lock (_lock)
        {
            writer.WriteLine($"skiff: {label}{message}");
            writer.Flush();
        }
    }

    private sealed class Logger(TextWriterLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                provider.Write(logLevel, formatter(state, exception));
        }
    }

    private sealed class SingleProviderFactory(ILoggerProvider provider) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => provider.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider other) => throw new NotSupportedException("this factory logs to one writer only");

        public void Dispose() => provider.Dispose();
    }
}
