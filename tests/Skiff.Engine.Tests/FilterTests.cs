using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Images.Service;

namespace Skiff.Engine.Tests;

/// <summary>docker's --filter lists as the engine parses and applies them: ps, images, the prunes, and docker's times.</summary>
public sealed class FilterTests
{
    private static readonly DateTimeOffset Epoch = DateTimeOffset.Parse("2026-01-01T00:00:00Z");

    private static ContainerRecord Container(string name, ContainerStatus status, int exitCode = 0, Dictionary<string, string>? labels = null,
        int minute = 0, string imageId = "sha256:base", MountPoint[]? mounts = null, NetworkMode network = NetworkMode.None) => new()
    {
        Id = NameGenerator.NewId(), Name = name, Image = "busybox", ImageId = imageId, Created = Epoch.AddMinutes(minute),
        Config = new ContainerConfig
        {
            Options = new() { Network = network }, Runtime = "runc", RootfsPath = "/", Labels = labels ?? [], Mounts = mounts ?? [],
        },
        State = new ContainerState { Status = status, ExitCode = exitCode, StartedAt = status == ContainerStatus.Created ? null : Epoch },
    };

    private static readonly ContainerRecord Web = Container("web-1", ContainerStatus.Running, labels: new() { ["tier"] = "front" }, minute: 3,
        imageId: "sha256:child", mounts: [new MountPoint("volume", "webdata", "/store/volumes/webdata/_data", "/var/www", true)]);
    private static readonly ContainerRecord Db = Container("db", ContainerStatus.Exited, 3, new() { ["tier"] = "back" }, minute: 2, network: NetworkMode.Host);
    private static readonly ContainerRecord Fresh = Container("fresh", ContainerStatus.Created, minute: 1, mounts: [new MountPoint("bind", null, "/srv/conf", "/etc/app", false)]);
    private static readonly ContainerRecord[] All = [Web, Db, Fresh];

    /// <summary>Containers by name, and images: base, and child whose layers extend base's.</summary>
    private static readonly FilterLookups Lookups = new(
        name => All.FirstOrDefault(c => c.Name == name || c.Id.StartsWith(name, StringComparison.Ordinal)) ?? throw new EngineException(ErrorKind.NotFound, $"no such container: {name}"),
        image => image switch
        {
            "base" => new HashSet<string> { "sha256:base", "sha256:child" },
            "child" => new HashSet<string> { "sha256:child" },
            _ => new HashSet<string>(),
        });

    private static List<string> Names(params string[] filters) => All.Where(ContainerFilter.Parse(filters, Lookups).Matches).Select(c => c.Name).ToList();

    [Fact]
    public void Ps_filters_combine_keys_with_and_and_values_with_or()
    {
        Assert.Equal(["web-1"], Names("name=web"));
        Assert.Equal(["db"], Names("status=exited"));
        Assert.Equal(["web-1", "db"], Names("status=exited", "status=running"));
        Assert.Equal(["db"], Names("label=tier=back"));
        Assert.Equal(["web-1", "db"], Names("label=tier"));
        Assert.Empty(Names("label=tier=back", "name=web"));
        Assert.Equal(["db"], Names($"id={Db.Id[..10]}"));
    }

    [Fact]
    public void Name_and_id_are_dockers_regular_expressions_with_or_without_the_slash()
    {
        Assert.Equal(["db"], Names("name=^db$"));
        Assert.Equal(["db"], Names("name=^/db$"));
        Assert.Equal(["web-1", "fresh"], Names("name=[ew]"));
        Assert.Empty(Names("name=[unclosed"));
        Assert.Equal(["web-1"], Names($"id=^{Web.Id[..6]}"));
    }

    [Fact]
    public void Exited_matches_a_code_of_a_container_that_ran()
    {
        Assert.Equal(["db"], Names("exited=3"));
        Assert.Empty(Names("exited=0"));
        Assert.Equal("invalid filter 'exited=three'", Assert.Throws<EngineException>(() => ContainerFilter.Parse(["exited=three"])).Message);
    }

    [Fact]
    public void Ancestor_matches_the_image_and_the_images_made_from_it()
    {
        Assert.Equal(["web-1", "db", "fresh"], Names("ancestor=base"));
        Assert.Equal(["web-1"], Names("ancestor=child"));
        Assert.Empty(Names("ancestor=no-such-image"));
        Assert.Equal(["web-1"], Names("ancestor=no-such-image", "ancestor=child"));
    }

    [Fact]
    public void Before_and_since_name_a_container_and_list_stopped_ones()
    {
        Assert.Equal(["db", "fresh"], Names("before=web-1"));
        Assert.Equal(["web-1", "db"], Names("since=fresh"));
        Assert.Equal(["db"], Names("since=fresh", "before=web-1"));
        Assert.True(ContainerFilter.Parse(["before=web-1"], Lookups).ImpliesAll);
        Assert.True(ContainerFilter.Parse(["exited=1"], Lookups).ImpliesAll);
        Assert.False(ContainerFilter.Parse(["label=tier"], Lookups).ImpliesAll);
        var missing = Assert.Throws<EngineException>(() => ContainerFilter.Parse(["since=nobody"], Lookups));
        Assert.Equal(ErrorKind.NotFound, missing.Kind);
    }

    [Fact]
    public void Volume_matches_a_name_a_bind_source_or_a_destination()
    {
        Assert.Equal(["web-1"], Names("volume=webdata"));
        Assert.Equal(["web-1"], Names("volume=/var/www"));
        Assert.Equal(["fresh"], Names("volume=/srv/conf"));
        Assert.Equal(["fresh"], Names("volume=/etc/app"));
        Assert.Empty(Names("volume=other"));
    }

    [Fact]
    public void Network_ports_and_tasks_as_docker_has_them_here()
    {
        Assert.Equal(["db"], Names("network=host"));
        Assert.Equal(["web-1", "fresh"], Names("network=none"));
        Assert.Empty(Names("network=bridge"));
        Assert.Empty(Names("publish=80"));
        Assert.Empty(Names("expose=8000-8080/tcp"));
        Assert.Empty(Names("publish=53/udp"));
        Assert.Equal(["web-1", "db", "fresh"], Names("is-task=false"));
        Assert.Empty(Names("is-task=true"));
        Assert.Equal(["web-1", "db", "fresh"], Names("isolation=default"));
        Assert.Empty(Names("isolation=hyperv"));
    }

    [Theory]
    [InlineData("color=red", "invalid filter 'color'")]
    [InlineData("label!=tier", "invalid filter 'label!'")]
    [InlineData("status=sleeping", "invalid filter 'status=sleeping'")]
    [InlineData("is-task=maybe", "invalid filter 'is-task=maybe'")]
    [InlineData("isolation=vm", "invalid filter 'isolation=vm'")]
    [InlineData("publish=http", "invalid filter 'publish=http'")]
    [InlineData("expose=80/ipx", "invalid filter 'expose=80/ipx'")]
    [InlineData("publish=90-80", "invalid filter 'publish=90-80'")]
    [InlineData("nameweb", "bad format of filter \"nameweb\" (expected name=value)")]
    public void Ps_refuses_what_docker_refuses(string filter, string message)
    {
        var error = Assert.Throws<EngineException>(() => ContainerFilter.Parse([filter]));
        Assert.Equal((ErrorKind.InvalidArgument, message), (error.Kind, error.Message));
    }

    [Fact]
    public void Keys_are_trimmed_and_lowercased_as_dockers_client_does()
    {
        Assert.Equal(["db"], Names(" Status = exited"));
        Assert.Equal(["web-1", "db", "fresh"], Names("status=dead", "status=removing", "status=created", "status=running", "status=exited"));
    }

    private static ImageInfo Image(string id, int minute, params string[] tags) => new(id, tags, [], Epoch.AddMinutes(minute), "sha256:m", "sha256:c", []);

    private static readonly ImageInfo Busybox = Image("sha256:1", 1, "docker.io/library/busybox:latest", "docker.io/library/busybox:1.36");
    private static readonly ImageInfo Tested = Image("sha256:2", 2, "docker.io/team/test/app:v1");
    private static readonly ImageInfo Dangling = Image("sha256:3", 3);
    private static readonly ImageInfo[] Images = [Busybox, Tested, Dangling];

    private static List<string> ImagesListed(params string[] filters)
    {
        var filter = ImageFilter.Parse(filters, name => Images.FirstOrDefault(i => i.Id == name || i.RepoTags.Contains(name)) ?? throw new ImageNotFoundException(name), Epoch.AddMinutes(10));
        return Images.Select(image => filter.Select(image, () => image == Tested ? new Dictionary<string, string> { ["team"] = "qa" } : []))
            .OfType<ImageInfo>().Select(image => image.RepoTags.Count == 0 ? image.Id : string.Join(',', image.RepoTags.Select(Engine.ImageNames.Familiar))).ToList();
    }

    [Fact]
    public void Images_filters_as_dockers()
    {
        Assert.Equal(["sha256:3"], ImagesListed("dangling=true"));
        Assert.Equal(["busybox:latest,busybox:1.36", "team/test/app:v1"], ImagesListed("dangling=false"));
        Assert.Equal(["team/test/app:v1"], ImagesListed("label=team"));
        Assert.Equal(["team/test/app:v1"], ImagesListed("label=team=qa"));
        Assert.Empty(ImagesListed("label=team=dev"));
        Assert.Equal(["busybox:latest,busybox:1.36"], ImagesListed("before=sha256:2"));
        Assert.Equal(["sha256:3"], ImagesListed("since=sha256:2"));
        Assert.Equal(["busybox:latest,busybox:1.36"], ImagesListed("until=2026-01-01T00:01:30Z"));
        Assert.Equal("invalid filter 'dangling=maybe'", Assert.Throws<EngineException>(() => ImagesListed("dangling=maybe")).Message);
        Assert.Equal("invalid filter 'status'", Assert.Throws<EngineException>(() => ImagesListed("status=running")).Message);
        Assert.Equal(ErrorKind.NotFound, Assert.Throws<ImageNotFoundException>(() => ImagesListed("before=nothing")).Kind);
    }

    [Fact]
    public void The_reference_filter_is_a_glob_on_the_familiar_name_and_keeps_the_names_it_matches()
    {
        Assert.Equal(["busybox:latest,busybox:1.36"], ImagesListed("reference=busybox"));
        Assert.Equal(["busybox:1.36"], ImagesListed("reference=busybox:1.36"));
        Assert.Equal(["busybox:latest,busybox:1.36"], ImagesListed("reference=busy*:*"));
        Assert.Equal(["busybox:1.36"], ImagesListed("reference=busy*:1.*"));
        Assert.Equal(["team/test/app:v1"], ImagesListed("reference=*/test/*"));
        Assert.Empty(ImagesListed("reference=*app*"));
        Assert.Equal(["busybox:latest,busybox:1.36", "team/test/app:v1"], ImagesListed("reference=busybox", "reference=*/*/*"));
        Assert.Equal("invalid filter 'reference=[busy'", Assert.Throws<EngineException>(() => ImagesListed("reference=[busy")).Message);
    }

    [Theory]
    [InlineData("abc", "abc", true)]
    [InlineData("a*", "abc", true)]
    [InlineData("a*", "a/c", false)]
    [InlineData("*/*", "a/c", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "a/c", false)]
    [InlineData("[a-c]x", "bx", true)]
    [InlineData("[^a-c]x", "bx", false)]
    [InlineData("[^a-c]x", "dx", true)]
    [InlineData("a\\*", "a*", true)]
    [InlineData("a\\*", "ab", false)]
    [InlineData("*c", "abc", true)]
    [InlineData("ab", "abc", false)]
    public void Glob_is_gos_path_match(string pattern, string name, bool matched) => Assert.Equal(matched, ImageFilter.GlobMatch(pattern, name));

    [Theory]
    [InlineData("[")]
    [InlineData("[]")]
    [InlineData("a\\")]
    [InlineData("[a-]")]
    public void A_malformed_glob_is_none(string pattern) => Assert.Null(ImageFilter.GlobMatch(pattern, "a"));

    [Fact]
    public void Prune_filters_take_until_and_labels()
    {
        var filter = PruneFilter.Parse(["until=2026-01-01T00:02:00Z", "label=keep=no", "label!=pinned"], PruneFilter.ContainerKeys, Epoch);
        Assert.True(filter.Matches(Epoch.AddMinutes(1), new Dictionary<string, string> { ["keep"] = "no" }));
        Assert.False(filter.Matches(Epoch.AddMinutes(3), new Dictionary<string, string> { ["keep"] = "no" }));
        Assert.False(filter.Matches(Epoch.AddMinutes(1), new Dictionary<string, string> { ["keep"] = "yes" }));
        Assert.False(filter.Matches(Epoch.AddMinutes(1), new Dictionary<string, string> { ["keep"] = "no", ["pinned"] = "" }));
        Assert.True(filter.UsesLabels);

        var ago = PruneFilter.Parse(["until=10m"], PruneFilter.ImageKeys, Epoch);
        Assert.True(ago.Matches(Epoch.AddMinutes(-11), null));
        Assert.False(ago.Matches(Epoch.AddMinutes(-9), null));
        Assert.False(ago.UsesLabels);

        Assert.Equal("invalid filter 'until'", Assert.Throws<EngineException>(() => PruneFilter.Parse(["until=1h"], PruneFilter.VolumeKeys, Epoch)).Message);
        Assert.Equal("invalid filter 'until=soon'", Assert.Throws<EngineException>(() => PruneFilter.Parse(["until=soon"], PruneFilter.ContainerKeys, Epoch)).Message);
        Assert.Equal("more than one until filter specified", Assert.Throws<EngineException>(() => PruneFilter.Parse(["until=1h", "until=2h"], PruneFilter.ContainerKeys, Epoch)).Message);
        Assert.True(PruneFilter.Parse(["all=true"], PruneFilter.VolumeKeys, Epoch).All);
        Assert.False(PruneFilter.Parse(["label=x"], PruneFilter.VolumeKeys, Epoch).All);
        Assert.Equal("invalid filter 'all=yes'", Assert.Throws<EngineException>(() => PruneFilter.Parse(["all=yes"], PruneFilter.VolumeKeys, Epoch)).Message);
    }

    [Theory]
    [InlineData("10m", -600)]
    [InlineData("1h30m", -5400)]
    [InlineData("1.5h", -5400)]
    [InlineData("90s", -90)]
    [InlineData("1500ms", -1.5)]
    [InlineData("-10m", 600)]
    public void Durations_are_gos_and_count_back_from_now(string text, double seconds)
        => Assert.Equal(Epoch.AddSeconds(seconds), DockerTime.TryParse(text, Epoch));

    [Fact]
    public void Times_are_rfc3339_or_unix_seconds()
    {
        Assert.Equal(DateTimeOffset.Parse("2025-06-01T12:00:00Z"), DockerTime.TryParse("2025-06-01T12:00:00Z", Epoch));
        Assert.Equal(DateTimeOffset.Parse("2025-06-01T10:00:00Z"), DockerTime.TryParse("2025-06-01T12:00:00+02:00", Epoch));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_500), DockerTime.TryParse("1700000000.5", Epoch));
        Assert.Null(DockerTime.TryParse("yesterday", Epoch));
        Assert.Null(DockerTime.TryParse("10x", Epoch));
        Assert.Null(DockerTime.TryParse("h", Epoch));
    }
}
