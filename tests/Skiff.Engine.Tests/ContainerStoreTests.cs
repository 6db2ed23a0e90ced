using Skiff.Engine.Containers;
using Skiff.Engine.Specs;

namespace Skiff.Engine.Tests;

public sealed class ContainerStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("skiff-engine-store-").FullName;
    private readonly ContainerStore _store;

    public ContainerStoreTests() => _store = ContainerStore.Open(Path.Combine(_directory, "engine.db"));

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static ContainerRecord NewContainer(string name, string? id = null) => new()
    {
        Id = id ?? NameGenerator.NewId(),
        Name = name,
        Image = "busybox",
        ImageId = "sha256:" + new string('a', 64),
        Created = DateTimeOffset.UtcNow,
        Config = new ContainerConfig
        {
            Options = new RunOptions
            {
                Command = ["sh", "-c", "echo hi"],
                Env = ["A=1"],
                Mounts = [MountRequest.ParseVolume("data:/data:ro")],
                Labels = new Dictionary<string, string> { ["tier"] = "web" },
                Ulimits = [UlimitRequest.Parse("nofile=10:20")],
                Network = NetworkMode.Host,
            },
            Labels = new Dictionary<string, string> { ["tier"] = "web" },
            Runtime = "/usr/sbin/runc",
            RootfsPath = "/tmp/rootfs",
            RestartPolicy = RestartPolicy.Parse("on-failure:3"),
            Log = LogOptions.Parse(null, ["max-size=1k", "max-file=2"]),
        },
    };

    [Fact]
    public void State_changes_from_many_threads_of_one_process_are_each_applied_once_while_others_read()
    {
        // One store shared by the requests of an API service: each read-modify-write is atomic across threads,
        // and readers meanwhile neither fail nor see a torn row.
        var container = NewContainer("shared");
        _store.Insert(container);
        const int Threads = 8, Changes = 200;
        Parallel.For(0, Threads * 2, new ParallelOptions { MaxDegreeOfParallelism = Threads * 2 }, thread =>
        {
            for (int i = 0; i < Changes; i++)
            {
                if (thread % 2 == 0)
                    _store.ChangeState(container.Id, s => s with { RestartCount = s.RestartCount + 1 });
                else
                    Assert.Equal(container.Name, Assert.Single(_store.List()).Name);
            }
        });
        Assert.Equal(Threads * Changes, _store.Get(container.Id)!.State.RestartCount);
    }

    [Fact]
    public void A_schema_1_database_gains_the_oom_killed_state()
    {
        string path = Path.Combine(_directory, "old.db");
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, image TEXT NOT NULL, image_id TEXT NOT NULL,
                    created INTEGER NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL, pid INTEGER NOT NULL DEFAULT 0,
                    pid_start INTEGER NOT NULL DEFAULT 0, exit_code INTEGER NOT NULL DEFAULT 0, started INTEGER, finished INTEGER,
                    restart_count INTEGER NOT NULL DEFAULT 0, monitor_pid INTEGER NOT NULL DEFAULT 0, monitor_start INTEGER NOT NULL DEFAULT 0,
                    stopped_by_user INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '');
                CREATE TABLE volumes (name TEXT PRIMARY KEY, created INTEGER NOT NULL, labels TEXT NOT NULL, anonymous INTEGER NOT NULL);
                PRAGMA user_version = 1;
                """;
            create.ExecuteNonQuery();
        }
        using var store = ContainerStore.Open(path);
        var container = NewContainer("migrated");
        store.Insert(container);
        Assert.False(store.Get(container.Id)!.State.OomKilled);
        store.ChangeState(container.Id, s => s with { Status = ContainerStatus.Exited, ExitCode = 137, OomKilled = true });
        Assert.True(store.Get(container.Id)!.State.OomKilled);
    }

    [Fact]
    public void A_container_round_trips_with_its_config_and_state()
    {
        var container = NewContainer("web");
        _store.Insert(container);
        var state = new ContainerState
        {
            Status = ContainerStatus.Running, Pid = 42, PidStartTime = 123, StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000),
            RestartCount = 2, MonitorPid = 41, MonitorStartTime = 120, StoppedByUser = true, Error = "x", OomKilled = true,
        };
        Assert.Equal(state, _store.ChangeState(container.Id, _ => state));

        var read = _store.Get(container.Id)!;
        Assert.Equal(state, read.State);
        Assert.Equal(["sh", "-c", "echo hi"], read.Config.Options.Command);
        Assert.Equal(MountKind.Volume, read.Config.Options.Mounts[0].Kind);
        Assert.True(read.Config.Options.Mounts[0].ReadOnly);
        Assert.Equal(NetworkMode.Host, read.Config.Options.Network);
        Assert.Equal(20UL, read.Config.Options.Ulimits[0].Hard);
        Assert.Equal(new RestartPolicy("on-failure", 3), read.Config.RestartPolicy);
        Assert.Equal(new LogOptions(1024, 2), read.Config.Log);
        Assert.Equal("web", read.Config.Labels["tier"]);
    }

    [Fact]
    public void A_containers_health_round_trips_and_stays_null_when_not_checked()
    {
        var container = NewContainer("checked") with { Config = NewContainer("checked").Config with { Healthcheck = new Skiff.Oci.Image.HealthConfig { Test = ["CMD", "true"], Interval = 1_000_000 } } };
        _store.Insert(container);
        Assert.Null(_store.Get(container.Id)!.State.Health);
        var result = new HealthResult(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250), 1, "bad\n");
        _store.ChangeState(container.Id, s => s with { Health = new ContainerHealth { Status = HealthStatus.Unhealthy, FailingStreak = 3, Log = [result] } });

        var read = _store.Get(container.Id)!;
        Assert.Equal(HealthStatus.Unhealthy, read.State.Health!.Status);
        Assert.Equal(3, read.State.Health.FailingStreak);
        Assert.Equal(result, Assert.Single(read.State.Health.Log));
        Assert.Equal(["CMD", "true"], read.Config.Healthcheck!.Test);
        Assert.Equal(1_000_000, read.Config.Healthcheck.Interval);
    }

    [Fact]
    public void The_database_is_readable_by_root_only()
        => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, new FileInfo(Path.Combine(_directory, "engine.db")).UnixFileMode);

    [Fact]
    public void A_name_in_use_fails_naming_the_holder_and_writes_nothing()
    {
        var first = NewContainer("db");
        _store.Insert(first);
        var error = Assert.Throws<EngineException>(() => _store.Insert(NewContainer("db")));
        Assert.Contains(first.ShortId, error.Message);
        Assert.Single(_store.List());
    }

    [Fact]
    public void Rename_to_a_taken_name_fails_and_keeps_both_names()
    {
        var a = NewContainer("a");
        var b = NewContainer("b");
        _store.Insert(a);
        _store.Insert(b);
        Assert.Throws<EngineException>(() => _store.Rename(a.Id, "b"));
        _store.Rename(a.Id, "c");
        Assert.Equal(["b", "c"], _store.List().Select(c => c.Name).Order());
    }

    [Fact]
    public void Find_takes_a_full_id_a_name_or_a_unique_prefix()
    {
        var a = NewContainer("alpha", "abc" + new string('1', 61));
        var b = NewContainer("beta", "abd" + new string('2', 61));
        _store.Insert(a);
        _store.Insert(b);
        Assert.Equal(a.Id, _store.Find(a.Id)!.Id);
        Assert.Equal(b.Id, _store.Find("beta")!.Id);
        Assert.Equal(b.Id, _store.Find("/beta")!.Id);
        Assert.Equal(a.Id, _store.Find("abc")!.Id);
        Assert.Null(_store.Find("abe"));
        Assert.Null(_store.Find("gamma"));
        Assert.Contains("ambiguous", Assert.Throws<EngineException>(() => _store.Find("ab")).Message);
        Assert.Null(_store.GetByName("ab"));
        // A name that is also an ambiguous id prefix is still in use by its own container.
        var named = NewContainer("ab");
        _store.Insert(named);
        Assert.Equal(named.Id, _store.Find("ab")!.Id);
        Assert.Contains(named.ShortId, Assert.Throws<EngineException>(() => _store.Insert(NewContainer("ab"))).Message);
    }

    [Fact]
    public void ChangeState_sees_the_latest_state_of_a_concurrent_writer()
    {
        var container = NewContainer("counter");
        _store.Insert(container);
        var path = Path.Combine(_directory, "engine.db");
        Parallel.For(0, 8, _ =>
        {
            using var other = ContainerStore.Open(path);
            for (int i = 0; i < 10; i++)
                other.ChangeState(container.Id, s => s with { RestartCount = s.RestartCount + 1 });
        });
        Assert.Equal(80, _store.Get(container.Id)!.State.RestartCount);
        Assert.Null(_store.ChangeState(NameGenerator.NewId(), s => s));
    }

    [Fact]
    public void Volumes_are_recorded_once()
    {
        var volume = new VolumeRecord("data", DateTimeOffset.UtcNow, new Dictionary<string, string> { ["k"] = "v" }, Anonymous: false);
        Assert.True(_store.InsertVolume(volume));
        Assert.False(_store.InsertVolume(volume with { Anonymous = true }));
        var read = _store.GetVolume("data")!;
        Assert.False(read.Anonymous);
        Assert.Equal("v", read.Labels["k"]);
        Assert.True(_store.DeleteVolume("data"));
        Assert.Empty(_store.ListVolumes());
    }

    [Theory]
    [InlineData("web-1")]
    [InlineData("/web.1_a")]
    [InlineData("9")]
    public void Valid_names(string name) => Assert.Equal(name.TrimStart('/'), NameGenerator.Validate(name));

    [Theory]
    [InlineData("")]
    [InlineData("-web")]
    [InlineData("web 1")]
    [InlineData("_web")]
    [InlineData("wéb")]
    public void Invalid_names_are_refused(string name)
        => Assert.Contains("invalid container name", Assert.Throws<EngineException>(() => NameGenerator.Validate(name)).Message);

    [Fact]
    public void Generated_names_and_ids_have_docker_shapes()
    {
        for (int i = 0; i < 50; i++)
        {
            Assert.Matches("^[a-z]+_[a-z]+$", NameGenerator.Random());
            Assert.Matches("^[0-9a-f]{64}$", NameGenerator.NewId());
        }
    }
}
