using System.Net;
using System.Text;
using System.Text.Json;

namespace Skiff.Api.Tests;

/// <summary>The service's routes, version prefix and error bodies over a real socket (no container is run).</summary>
public sealed class RoutingTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private HttpClient Client => service.Client;

    private static async Task<string> Message(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("message").GetString()!;
    }

    [Theory]
    [InlineData("/_ping")]
    [InlineData("/v1.41/_ping")]
    [InlineData("/v1.47/_ping")]
    public async Task PingAnswersWithTheNegotiationHeaders(string path)
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var response = await Client.SendAsync(new HttpRequestMessage(method, path));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("1.47", response.Headers.GetValues("API-Version").Single());
            Assert.Equal("linux", response.Headers.GetValues("OSType").Single());
            Assert.Equal("1", response.Headers.GetValues("Builder-Version").Single());
            Assert.Equal(method == HttpMethod.Get ? "OK" : "", await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData("/v1.40/version", "client version 1.40 is too old")]
    [InlineData("/v1.48/containers/json", "client version 1.48 is too new")]
    public async Task VersionsOutsideTheRangeAreRefused(string path, string message)
    {
        using var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await Message(response));
    }

    [Fact]
    public async Task VersionNamesTheRange()
    {
        using var document = JsonDocument.Parse(await Client.GetStringAsync("/v1.41/version"));
        Assert.Equal("1.47", document.RootElement.GetProperty("ApiVersion").GetString());
        Assert.Equal("1.41", document.RootElement.GetProperty("MinAPIVersion").GetString());
        Assert.Equal("linux", document.RootElement.GetProperty("Os").GetString());
        Assert.Equal("Engine", document.RootElement.GetProperty("Components")[0].GetProperty("Name").GetString());
    }

    [Fact]
    public async Task InfoIsDockersSystemInfo()
    {
        using var document = JsonDocument.Parse(await Client.GetStringAsync("/info"));
        Assert.Equal("linux", document.RootElement.GetProperty("OSType").GetString());
        Assert.Equal(0, document.RootElement.GetProperty("Containers").GetInt32());
        Assert.True(document.RootElement.GetProperty("NCPU").GetInt32() > 0);
    }

    [Fact]
    public async Task UnknownPathsAre404WithAMessage()
    {
        using var response = await Client.GetAsync("/v1.41/frobnicate");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("page not found", await Message(response));
    }

    [Theory]
    [InlineData("GET", "/containers/nosuch/json")]
    [InlineData("DELETE", "/v1.41/containers/nosuch")]
    [InlineData("POST", "/containers/nosuch/start")]
    [InlineData("POST", "/containers/nosuch/wait")]
    [InlineData("POST", "/containers/nosuch/stop")]
    [InlineData("POST", "/containers/nosuch/kill")]
    [InlineData("GET", "/containers/nosuch/logs?stdout=1")]
    [InlineData("GET", "/images/nosuch:1/json")]
    public async Task MissingObjectsAre404(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("nosuch", await Message(response));
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("""{"Image": 5}""")]
    [InlineData("""{"Cmd": ["true"]}""")]
    [InlineData("""{"Image": "x", "HostConfig": {"Memory": "lots"}}""")]
    public async Task MalformedCreatesAre400AndLeaveNothing(string body)
    {
        using var response = await Client.PostAsync("/containers/create", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEmpty(await Message(response));
        Assert.Equal("[]", await Client.GetStringAsync("/containers/json?all=1"));
    }

    [Fact]
    public async Task AnUnknownImageIs404SoTheClientPulls()
    {
        using var response = await Client.PostAsync("/v1.41/containers/create?name=x", new StringContent("""{"Image":"local/nosuch:1"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("local/nosuch:1", await Message(response));
        Assert.Equal("[]", await Client.GetStringAsync("/containers/json?all=1"));
    }

    [Fact]
    public async Task AnAttachToAMissingContainerIsAnsweredBeforeAnyUpgrade()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1.41/containers/nosuch/attach?stream=1&stdout=1");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("tcp"));
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("nosuch", await Message(response));
        using var old = await Client.PostAsync("/v1.40/containers/nosuch/attach", null);
        Assert.Equal(HttpStatusCode.BadRequest, old.StatusCode);
    }

    [Fact]
    public async Task ListsAreEmptyJsonArrays()
    {
        Assert.Equal("[]", await Client.GetStringAsync("/containers/json?all=1&limit=5"));
        Assert.Equal("[]", await Client.GetStringAsync("/images/json"));
        using var bad = await Client.GetAsync("/containers/json?filters=%7Bnot");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
