using Microsoft.Extensions.Logging;

namespace Skiff.Engine.Logging;

/// <summary>
/// Logs as a command-line program speaks to its user: one line per message, "skiff: warning: ..." (the prefix and
/// the level's word, then the message), on a writer such as stderr or a monitor's log, from a minimum level up.
/// </summary>
public sealed class TextWriterLoggerProvider(TextWriter output, LogLevel minimumLevel = LogLevel.Warning, string prefix = "skiff") : ILoggerProvider
{
    private readonly Lock _lock = new();

    public ILogger CreateLogger(string categoryName) => new Writer(this);

    /// <summary>
    /// A factory whose every logger writes through this provider: what a front end hands the engine, without the
    /// options and dependency injection of Microsoft.Extensions.Logging's own factory (start-up time of every command).
    /// </summary>
    public ILoggerFactory ToFactory() => new Factory(this);

    public void Dispose()
    {
    }

    /// <summary>The line for <paramref name="message"/> at <paramref name="level"/>: a message of several lines is joined into one.</summary>
    public static string Line(string prefix, LogLevel level, string message, Exception? error = null)
    {
        var text = error is null ? message : $"{message}: {error.Message}";
        return $"{prefix}: {Word(level)}: {text.ReplaceLineEndings(" ")}";
    }

    private static string Word(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        _ => "error",
    };

    private bool IsEnabled(LogLevel level) => level != LogLevel.None && level >= minimumLevel;

    private void Write(LogLevel level, string message, Exception? error)
    {
        var line = Line(prefix, level, message, error);
        // One writer for every category and thread: whole lines, never interleaved.
        lock (_lock)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private sealed class Writer(TextWriterLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => provider.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (provider.IsEnabled(logLevel))
                provider.Write(logLevel, formatter(state, exception), exception);
        }
    }

    private sealed class Factory(TextWriterLoggerProvider provider) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => provider.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider other)
            => throw new NotSupportedException("this logger factory writes through one provider only; use Microsoft.Extensions.Logging's LoggerFactory for several");

        public void Dispose() => provider.Dispose();
    }
}
