using System.Text;
using Skiff.Build.Execution;

namespace Skiff.Build.Tests.Execution;

public sealed class PlainBuildProgressTests
{
    [Fact]
    public void StepsOutputLinesAndEndsAreWrittenAsBuildKitsPlainProgress()
    {
        var text = new StringWriter();
        var progress = new PlainBuildProgress(text);
        progress.Step(3, 5, "[2/5] RUN echo hi");
        using (var output = progress.Output(3))
        {
            output.Write(Encoding.UTF8.GetBytes("first\r\nsec"));
            output.Write(Encoding.UTF8.GetBytes("ond\nno newline at the end"));
        }
        progress.Done(3, cached: false, TimeSpan.FromMilliseconds(1250));
        progress.Done(4, cached: true, TimeSpan.Zero);
        Assert.Equal("#3 [2/5] RUN echo hi\n#3 first\n#3 second\n#3 no newline at the end\n#3 DONE 1.3s\n#4 CACHED\n", text.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void QuietShowsOnlyWarnings()
    {
        var text = new StringWriter();
        var progress = new PlainBuildProgress(text, quiet: true);
        progress.Step(1, 1, "FROM x");
        using (var output = progress.Output(1))
            output.Write("hidden\n"u8);
        progress.Warning("[Warning] careful");
        Assert.Equal("[Warning] careful\n", text.ToString().ReplaceLineEndings("\n"));
    }
}
