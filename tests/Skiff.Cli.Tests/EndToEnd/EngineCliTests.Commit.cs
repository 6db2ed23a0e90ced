namespace Skiff.Cli.Tests.EndToEnd;

public sealed partial class EngineCliTests
{
    [Fact]
    public async Task CommitIsRecordedAsAContainerEvent()
    {
        string id = (await Ok("create", "--name", "committed-event", Image, "true")).Stdout.Trim();
        string image = (await Ok("commit", "-m", "first", "committed-event", "local/event:1")).Stdout.Trim();
        var events = await Ok("events", "--since", "10m", "--until", "0s", "--filter", "event=commit",
            "--format", "{{.Actor.ID}} {{.Actor.Attributes.name}} {{.Actor.Attributes.imageID}} {{.Actor.Attributes.imageRef}} {{.Actor.Attributes.comment}}");
        Assert.Equal($"{id} committed-event {image} local/event:1 first\n", events.Stdout);
    }
}
