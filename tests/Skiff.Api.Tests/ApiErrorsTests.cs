using Skiff.Engine;

namespace Skiff.Api.Tests;

public sealed class ApiErrorsTests
{
    [Theory]
    [InlineData(ErrorKind.InvalidArgument, 400)]
    [InlineData(ErrorKind.NotFound, 404)]
    [InlineData(ErrorKind.AlreadyExists, 409)]
    [InlineData(ErrorKind.Conflict, 409)]
    [InlineData(ErrorKind.FailedPrecondition, 409)]
    [InlineData(ErrorKind.PermissionDenied, 403)]
    [InlineData(ErrorKind.Unavailable, 503)]
    [InlineData(ErrorKind.ResourceExhausted, 500)]
    [InlineData(ErrorKind.Canceled, 500)]
    [InlineData(ErrorKind.Internal, 500)]
    public void KindsMapToDockersStatuses(ErrorKind kind, int status) => Assert.Equal(status, ApiErrors.Status(kind));

    [Fact]
    public void EveryKindHasAStatus()
    {
        foreach (var kind in Enum.GetValues<ErrorKind>())
            Assert.InRange(ApiErrors.Status(kind), 400, 599);
    }

    [Fact]
    public void MessagesAreOneLine()
        => Assert.Equal("no such container: a b", ApiErrors.Message(new EngineException(ErrorKind.NotFound, "no such container: a\nb")));
}
