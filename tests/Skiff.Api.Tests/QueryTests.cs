using Microsoft.AspNetCore.Http;
using Skiff.Engine;

namespace Skiff.Api.Tests;

public sealed class QueryTests
{
    private static HttpContext With(string query)
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString(query);
        return context;
    }

    [Fact]
    public void FiltersInBothOfDockersForms()
    {
        var filters = Query.Filters(With("?filters=" + Uri.EscapeDataString("""{"status":["exited","created"],"label":{"a=b":true,"c":false}}""")));
        Assert.Equal(["status=exited", "status=created", "label=a=b"], filters);
        Assert.Empty(Query.Filters(With("")));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1]")]
    [InlineData("""{"status":"exited"}""")]
    [InlineData("""{"status":[1]}""")]
    public void MalformedFiltersAreBadRequests(string filters)
    {
        var error = Assert.Throws<EngineException>(() => Query.Filters(With("?filters=" + Uri.EscapeDataString(filters))));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
    }

    [Theory]
    [InlineData("?force=1", true)]
    [InlineData("?force=true", true)]
    [InlineData("?force=True", true)]
    [InlineData("?force=0", false)]
    [InlineData("?force=false", false)]
    [InlineData("?force=", false)]
    [InlineData("", false)]
    public void BooleansAsDockerd(string query, bool value) => Assert.Equal(value, Query.Bool(With(query), "force"));

    [Fact]
    public void ANumberThatIsNoneIsABadRequest()
        => Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<EngineException>(() => Query.Int(With("?t=soon"), "t")).Kind);
}
