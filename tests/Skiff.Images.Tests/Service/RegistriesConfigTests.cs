using Skiff.Images.Service;

namespace Skiff.Images.Tests.Service;

public sealed class RegistriesConfigTests
{
    [Fact]
    public void ParsesSearchRegistriesAndInsecureEntriesOfAPodmanFile()
    {
        var config = RegistriesConfig.Parse("""
            # comment
            unqualified-search-registries = ["registry.local:5000", "docker.io",]  # trailing comment

            [[registry]]
            location = "registry.local:5000"
            insecure = true

            [[registry]]
            location = "quay.io"
            insecure = false
            blocked = false

            [aliases]
            "app" = "quay.io/x/app"
            """, "test.conf");

        Assert.Equal(["registry.local:5000", "docker.io"], config.SearchRegistries);
        Assert.Equal(["registry.local:5000"], config.InsecureRegistries);
        Assert.Equal(["registry.local:5000/app:latest", "docker.io/library/app:latest"], config.Candidates("app").Select(r => r.ToString()));
        Assert.Equal(["quay.io/x/app:1"], config.Candidates("quay.io/x/app:1").Select(r => r.ToString()));
        Assert.Equal(["localhost/app:latest"], config.Candidates("localhost/app").Select(r => r.ToString()));
    }

    [Fact]
    public void DefaultsToDockerHubAndNamesTheLineOfAnError()
    {
        Assert.Equal(["docker.io/library/busybox:latest"], RegistriesConfig.Parse("", "empty.conf").Candidates("busybox").Select(r => r.ToString()));
        var error = Assert.Throws<ImageException>(() => RegistriesConfig.Parse("unqualified-search-registries = [\"a\",\n", "bad.conf"));
        Assert.Equal("bad.conf:1: unqualified-search-registries must be an array of strings on one line", error.Message);
        error = Assert.Throws<ImageException>(() => RegistriesConfig.Parse("[[registry]]\nlocation = \"x\"\ninsecure = yes\n", "bad.conf"));
        Assert.Equal("bad.conf:3: insecure must be true or false, not yes", error.Message);
    }
}
