namespace Skiff.Build.Execution;

/// <summary>Where a build reports its steps, its RUN output and its warnings (a front end renders them).</summary>
public interface IBuildProgress
{
    /// <summary>Step <paramref name="number"/> of <paramref name="total"/> starts: <paramref name="description"/> names it.</summary>
    void Step(int number, int total, string description);

    /// <summary>A stream for step <paramref name="number"/>'s output (RUN's stdout and stderr); disposed when the step ends.</summary>
    Stream Output(int number);

    /// <summary>Step <paramref name="number"/> ended: from the cache, or made in <paramref name="elapsed"/>.</summary>
    void Done(int number, bool cached, TimeSpan elapsed);

    void Warning(string message);
}

/// <summary>
/// docker build's plain progress (BuildKit's <c>--progress=plain</c>): "#N [stage n/m] INSTRUCTION", the step's output
/// lines prefixed "#N ", then "#N CACHED" or "#N DONE 1.2s"; warnings as they come. Thread-safe: lines of two streams never mix within a line.
/// </summary>
public sealed class PlainBuildProgress(TextWriter writer, bool quiet = false) : IBuildProgress
{
    private readonly Lock _lock = new();

    public void Step(int number, int total, string description)
    {
        if (!quiet)
            WriteLine($"#{number} {description}");
    }

    public Stream Output(int number) => quiet ? Stream.Null : new OutputLines(line => WriteLine($"#{number} {line}"));

    public void Done(int number, bool cached, TimeSpan elapsed)
    {
        if (!quiet)
            WriteLine(cached ? $"#{number} CACHED" : $"#{number} DONE {elapsed.TotalSeconds:0.0}s");
    }

    public void Warning(string message) => WriteLine(message);

    private void WriteLine(string line)
    {
        lock (_lock)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }
}
