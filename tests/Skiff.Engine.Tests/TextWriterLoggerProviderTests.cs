using Microsoft.Extensions.Logging;
using Skiff.Engine.Logging;

namespace Skiff.Engine.Tests;

public sealed class TextWriterLoggerProviderTests
{
    [Fact]
    public void Writes_one_line_per_message_from_the_minimum_level_up()
    {
        var output = new StringWriter();
        using var factory = new TextWriterLoggerProvider(output, LogLevel.Warning).ToFactory();
        var logger = factory.CreateLogger("monitor");

        logger.LogInformation("not shown");
        logger.LogWarning("the event of {Container} was not recorded:\nthe disk is full", "web");
        logger.LogError(new IOException("no space left on device"), "cannot write {Path}", "/var/lib/skiff/events/events.log");

        Assert.Equal(
            "skiff: warning: the event of web was not recorded: the disk is full\n" +
            "skiff: error: cannot write /var/lib/skiff/events/events.log: no space left on device\n",
            output.ToString());
    }
}
