using Microsoft.Data.Sqlite;

namespace Skiff.Storage.Sqlite;

/// <summary>
/// A store's SQLite database as every thread of one process shares it: one connection, each statement, query or
/// transaction under a lock held only while SQLite works (rows are read into lists before it is released). Other
/// processes have connections of their own; WAL and busy_timeout order them (<see cref="SqliteCommands.OpenShared"/>).
/// </summary>
/// <remarks>
/// Rather than a connection per operation from Microsoft.Data.Sqlite's pool, whose readers would run in parallel
/// under WAL. Measured on this project's 2-core machines under load, 8 threads doing 20,000 operations: with one
/// write transaction (read-modify-write, as ChangeState) in 4, 4-7.5 s with the lock against 11-19 s pooled, since
/// pooled writers on separate connections meet in SQLite's busy handler, which sleeps in steps of milliseconds where
/// the lock hands over at once; reads only, 0.9-1.3 s either way (a read takes tens of microseconds, too little for
/// parallel readers to win). And a command's start-up is untouched: one connection opened once, as before, where a
/// pool would re-run the per-connection set-up (checkpoint on close, foreign keys, busy timeout) on every open.
/// </remarks>
public sealed class SqliteDatabase : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();

    private SqliteDatabase(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens the database as <see cref="SqliteCommands.OpenShared"/> does; <paramref name="prepare"/> (migrations) runs first, alone.</summary>
    public static SqliteDatabase Open(string path, Action<SqliteConnection> prepare) => new(SqliteCommands.OpenShared(path, prepare));

    /// <summary>Runs one statement on its own; returns the rows it changed.</summary>
    public int Execute(string sql, params (string Name, object Value)[] parameters)
    {
        lock (_lock)
            return _connection.Execute(sql, null, parameters);
    }

    /// <summary>Every row of a query, each turned into a value by <paramref name="read"/>.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        lock (_lock)
            return _connection.Query(sql, null, read, parameters);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction (BEGIN IMMEDIATE: a read-modify-write sees no other
    /// writer's change between its read and its write, from this process or another) and commits it unless it throws.
    /// <paramref name="work"/> must not call back into the store: it holds the lock.
    /// </summary>
    public T InTransaction<T>(Func<SqliteTransaction, T> work)
    {
        lock (_lock)
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            var result = work(transaction);
            transaction.Commit();
            return result;
        }
    }

    public void Dispose()
    {
        lock (_lock)
            _connection.Dispose();
    }
}
