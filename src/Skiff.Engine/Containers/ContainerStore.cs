using System.Text.Json;
using Microsoft.Data.Sqlite;
using Skiff.Storage.Sqlite;

namespace Skiff.Engine.Containers;

/// <summary>A named volume: its data lives in a directory under the engine root.</summary>
public sealed record VolumeRecord(string Name, DateTimeOffset Created, IReadOnlyDictionary<string, string> Labels, bool Anonymous);

/// <summary>
/// The engine's SQLite database (containers and volumes), separate from the image metadata so the two can be
/// migrated on their own. Every skiff command and every monitor opens it; WAL lets `ps` read while a monitor
/// records an exit, busy_timeout makes concurrent writers wait instead of failing. Safe for concurrent calls from
/// the threads of one process (<see cref="SqliteDatabase"/>).
/// </summary>
public sealed class ContainerStore : IDisposable
{
    private const int SchemaVersion = 3;
    private const string Columns = "id, name, image, image_id, created, config, status, pid, pid_start, exit_code, started, finished, restart_count, monitor_pid, monitor_start, stopped_by_user, error, oom_killed, health";
    private readonly SqliteDatabase _database;

    private ContainerStore(SqliteDatabase database) => _database = database;

    public static ContainerStore Open(string path)
        => new(SqliteDatabase.Open(path, connection =>
        {
            // No fsync per transaction (a `run` makes six): WAL stays consistent through any crash, and what a power
            // loss may undo is harmless here. States are checked against the processes anyway (a reboot ends them
            // all); a lost insert leaves a container directory nobody lists; a lost delete brings back a row whose
            // directory is gone, which `rm` removes (ContainerLifecycle.Remove).
            connection.Execute("PRAGMA synchronous = NORMAL");
            Migrate(connection);
        }));

    public void Dispose() => _database.Dispose();

    /// <summary>
    /// Builds the serializer metadata of a container row (a millisecond or two of System.Text.Json work in a
    /// NativeAOT process) ahead of the first read or write, for a process that would otherwise wait meanwhile.
    /// </summary>
    public static void PrepareSerializer() => _ = EngineJsonContext.Default.ContainerConfig;

    private static void Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        long version = (long)connection.Scalar("PRAGMA user_version", transaction)!;
        if (version > SchemaVersion)
            throw new EngineException(ErrorKind.FailedPrecondition, $"engine database schema {version} is newer than this skiff understands ({SchemaVersion}); use the newer skiff");
        if (version == 0)
        {
            transaction.Execute("""
                CREATE TABLE containers (
                    id              TEXT PRIMARY KEY,
                    name            TEXT NOT NULL UNIQUE,
                    image           TEXT NOT NULL,
                    image_id        TEXT NOT NULL,
                    created         INTEGER NOT NULL,
                    config          TEXT NOT NULL,
                    status          TEXT NOT NULL,
                    pid             INTEGER NOT NULL DEFAULT 0,
                    pid_start       INTEGER NOT NULL DEFAULT 0,
                    exit_code       INTEGER NOT NULL DEFAULT 0,
                    started         INTEGER,
                    finished        INTEGER,
                    restart_count   INTEGER NOT NULL DEFAULT 0,
                    monitor_pid     INTEGER NOT NULL DEFAULT 0,
                    monitor_start   INTEGER NOT NULL DEFAULT 0,
                    stopped_by_user INTEGER NOT NULL DEFAULT 0,
                    error           TEXT NOT NULL DEFAULT ''
                );
                CREATE TABLE volumes (
                    name      TEXT PRIMARY KEY,
                    created   INTEGER NOT NULL,
                    labels    TEXT NOT NULL,
                    anonymous INTEGER NOT NULL
                );
                PRAGMA user_version = 1;
                """);
        }
        if (version < 2)
            transaction.Execute("ALTER TABLE containers ADD COLUMN oom_killed INTEGER NOT NULL DEFAULT 0; PRAGMA user_version = 2;");
        if (version < 3)
            transaction.Execute("ALTER TABLE containers ADD COLUMN health TEXT; PRAGMA user_version = 3;"); // State.Health as JSON, NULL when not checked
        transaction.Commit();
    }

    /// <summary>Records a new container; a name already taken fails with the container that holds it, and nothing is written.</summary>
    public void Insert(ContainerRecord container)
    {
        try
        {
            _database.Execute($"INSERT INTO containers({Columns}) VALUES ($id, $name, $image, $image_id, $created, $config, $status, $pid, $pid_start, $exit_code, $started, $finished, $restart_count, $monitor_pid, $monitor_start, $stopped_by_user, $error, $oom_killed, $health)",
                [.. Parameters(container.State), ("$id", container.Id), ("$name", container.Name), ("$image", container.Image), ("$image_id", container.ImageId),
                    ("$created", container.Created.ToUnixTimeMilliseconds()), ("$config", JsonSerializer.Serialize(container.Config, EngineJsonContext.Default.ContainerConfig))]);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19 /* SQLITE_CONSTRAINT */)
        {
            throw NameInUse(container.Name);
        }
    }

    private EngineException NameInUse(string name)
    {
        var holder = GetByName(name);
        return new EngineException(ErrorKind.AlreadyExists, holder is null
            ? $"the container name \"{name}\" is held by a container being removed: try again, or choose another name"
            : $"the container name \"{name}\" is already in use by container {holder.ShortId}: remove or rename that container, or choose another name");
    }

    /// <summary>Reads, changes and writes a container's state in one transaction, so a monitor and a CLI never lose each other's update.</summary>
    /// <remarks><paramref name="change"/> runs inside the transaction and must not call the store.</remarks>
    public ContainerState? ChangeState(string id, Func<ContainerState, ContainerState> change)
        => _database.InTransaction(transaction =>
        {
            var current = Get(id, transaction);
            if (current is null)
                return null;
            var next = change(current.State);
            transaction.Execute("""
            UPDATE containers SET status = $status, pid = $pid, pid_start = $pid_start, exit_code = $exit_code, started = $started, finished = $finished,
                restart_count = $restart_count, monitor_pid = $monitor_pid, monitor_start = $monitor_start, stopped_by_user = $stopped_by_user, error = $error,
                oom_killed = $oom_killed, health = $health
            WHERE id = $id
            """, [.. Parameters(next), ("$id", id)]);
            return next;
        });

    /// <summary>Changes a container's run options (its networks, as `network connect` does) in one transaction.</summary>
    public void UpdateOptions(string id, Func<Specs.RunOptions, Specs.RunOptions> change)
        => _database.InTransaction(transaction =>
        {
            if (Get(id, transaction) is not { } current)
                return 0;
            var config = current.Config with { Options = change(current.Config.Options) };
            return transaction.Execute("UPDATE containers SET config = $config WHERE id = $id",
                ("$config", JsonSerializer.Serialize(config, EngineJsonContext.Default.ContainerConfig)), ("$id", id));
        });

    public void Rename(string id, string newName)
    {
        try
        {
            _database.Execute("UPDATE containers SET name = $name WHERE id = $id", ("$name", newName), ("$id", id));
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19)
        {
            throw NameInUse(newName);
        }
    }

    public bool Delete(string id) => _database.Execute("DELETE FROM containers WHERE id = $id", ("$id", id)) > 0;

    public ContainerRecord? Get(string id) => _database.Query($"SELECT {Columns} FROM containers WHERE id = $id", Read, ("$id", id)).FirstOrDefault();

    private static ContainerRecord? Get(string id, SqliteTransaction transaction)
        => transaction.Query($"SELECT {Columns} FROM containers WHERE id = $id", Read, ("$id", id)).FirstOrDefault();

    public ContainerRecord? GetByName(string name)
        => _database.Query($"SELECT {Columns} FROM containers WHERE name = $name", Read, ("$name", name)).FirstOrDefault();

    /// <summary>docker's lookup order: full id, exact name, then a unique id prefix. Null when nothing matches.</summary>
    public ContainerRecord? Find(string idOrName)
    {
        var bare = idOrName.StartsWith('/') ? idOrName[1..] : idOrName;
        if (_database.Query($"SELECT {Columns} FROM containers WHERE id = $key OR name = $key ORDER BY id = $key DESC LIMIT 1", Read, ("$key", bare)) is [var exact])
            return exact;
        if (bare.Length == 0 || !bare.All(char.IsAsciiHexDigitLower))
            return null;
        var matches = List("WHERE id >= $prefix AND id < $end", "LIMIT 2", ("$prefix", bare), ("$end", bare + "g"));
        if (matches.Count > 1)
            throw new EngineException(ErrorKind.InvalidArgument, $"container id prefix \"{bare}\" is ambiguous: give more of the id");
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>Every container, newest first (the order of `ps`).</summary>
    public IReadOnlyList<ContainerRecord> List() => List("", "");

    private List<ContainerRecord> List(string where, string limit, params (string Name, object Value)[] parameters)
        => _database.Query($"SELECT {Columns} FROM containers {where} ORDER BY created DESC, id {limit}", Read, parameters);

    /// <summary>Records a volume; false when one of that name exists already.</summary>
    public bool InsertVolume(VolumeRecord volume)
        => _database.Execute("INSERT INTO volumes(name, created, labels, anonymous) VALUES ($name, $created, $labels, $anonymous) ON CONFLICT(name) DO NOTHING",
            ("$name", volume.Name), ("$created", volume.Created.ToUnixTimeMilliseconds()),
            ("$labels", JsonSerializer.Serialize(new Dictionary<string, string>(volume.Labels), EngineJsonContext.Default.DictionaryStringString)),
            ("$anonymous", volume.Anonymous ? 1 : 0)) > 0;

    public VolumeRecord? GetVolume(string name) => Volumes("WHERE name = $name", ("$name", name)).FirstOrDefault();

    public IReadOnlyList<VolumeRecord> ListVolumes() => Volumes("");

    public bool DeleteVolume(string name) => _database.Execute("DELETE FROM volumes WHERE name = $name", ("$name", name)) > 0;

    private List<VolumeRecord> Volumes(string where, params (string Name, object Value)[] parameters)
        => _database.Query($"SELECT name, created, labels, anonymous FROM volumes {where} ORDER BY name",
            reader => new VolumeRecord(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                JsonSerializer.Deserialize(reader.GetString(2), EngineJsonContext.Default.DictionaryStringString)!, reader.GetInt64(3) != 0),
            parameters);

    private static (string, object)[] Parameters(ContainerState state) =>
    [
        ("$status", state.Status.ToString().ToLowerInvariant()), ("$pid", state.Pid), ("$pid_start", (long)state.PidStartTime),
        ("$exit_code", state.ExitCode), ("$started", Time(state.StartedAt)), ("$finished", Time(state.FinishedAt)),
        ("$restart_count", state.RestartCount), ("$monitor_pid", state.MonitorPid), ("$monitor_start", (long)state.MonitorStartTime),
        ("$stopped_by_user", state.StoppedByUser ? 1 : 0), ("$error", state.Error), ("$oom_killed", state.OomKilled ? 1 : 0),
        ("$health", state.Health is { } health ? JsonSerializer.Serialize(health, EngineJsonContext.Default.ContainerHealth) : DBNull.Value),
    ];

    private static object Time(DateTimeOffset? time) => time is { } t ? t.ToUnixTimeMilliseconds() : DBNull.Value;

    private static DateTimeOffset? Time(SqliteDataReader reader, int column)
        => reader.IsDBNull(column) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(column));

    private static ContainerRecord Read(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Name = reader.GetString(1),
        Image = reader.GetString(2),
        ImageId = reader.GetString(3),
        Created = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
        Config = JsonSerializer.Deserialize(reader.GetString(5), EngineJsonContext.Default.ContainerConfig)!,
        State = new ContainerState
        {
            Status = Enum.Parse<ContainerStatus>(reader.GetString(6), ignoreCase: true),
            Pid = reader.GetInt32(7),
            PidStartTime = (ulong)reader.GetInt64(8),
            ExitCode = reader.GetInt32(9),
            StartedAt = Time(reader, 10),
            FinishedAt = Time(reader, 11),
            RestartCount = reader.GetInt32(12),
            MonitorPid = reader.GetInt32(13),
            MonitorStartTime = (ulong)reader.GetInt64(14),
            StoppedByUser = reader.GetInt64(15) != 0,
            Error = reader.GetString(16),
            OomKilled = reader.GetInt64(17) != 0,
            Health = reader.IsDBNull(18) ? null : JsonSerializer.Deserialize(reader.GetString(18), EngineJsonContext.Default.ContainerHealth),
        },
    };
}
