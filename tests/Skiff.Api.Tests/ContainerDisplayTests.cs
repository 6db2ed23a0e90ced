using Skiff.Engine;

namespace Skiff.Api.Tests;

/// <summary>The Status words of ContainerSummary (and of `skiff ps`): docker's go-units HumanDuration.</summary>
public sealed class ContainerDisplayTests
{
    [Theory]
    [InlineData(0.5, "Less than a second")]
    [InlineData(1, "1 second")]
    [InlineData(59, "59 seconds")]
    [InlineData(60, "About a minute")]
    [InlineData(59 * 60, "59 minutes")]
    [InlineData(3600, "About an hour")]
    [InlineData(47 * 3600, "47 hours")]
    [InlineData(3 * 86400, "3 days")]
    [InlineData(21 * 86400, "3 weeks")]
    [InlineData(90 * 86400, "3 months")]
    [InlineData(3 * 365 * 86400, "3 years")]
    public void HumanDurations(double seconds, string text) => Assert.Equal(text, ContainerDisplay.HumanDuration(TimeSpan.FromSeconds(seconds)));
}
