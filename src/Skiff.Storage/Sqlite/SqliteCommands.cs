using Microsoft.Data.Sqlite;
using Skiff.Interop;

namespace Skiff.Storage.Sqlite;

/// <summary>Parameterised statements on a connection, for the stores that keep their state in SQLite (images, containers).</summary>
public static class SqliteCommands
{
    /// <summary>
    /// Opens (creating if needed) a database for several processes at once. WAL: readers do not block a writer and
    /// a crash never leaves a torn database. busy_timeout: a second skiff process waits for the lock instead of
    /// failing at once. Foreign keys on. <paramref name="prepare"/> (permissions, migrations) runs before the
    /// connection is returned; if it fails, the connection is closed.
    /// </summary>
    public static SqliteConnection OpenShared(string path, Action<SqliteConnection> prepare)
    {
        // SQLite would create the file by the umask (0644), and gives -wal and -shm the database's own mode: metadata
        // and container configs (environments, often secrets) are the owner's only.
        PrivateStore.EnsureFile(path);
        PrivateStore.TightenIfPresent(path + "-wal");
        PrivateStore.TightenIfPresent(path + "-shm");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            // The last connection to close would checkpoint the WAL and delete it under an exclusive lock; a
            // process opening the database meanwhile (the next `skiff run` while the last one's monitor exits)
            // then sleeps in SQLite's busy back-off, which measured 150 ms here. Checkpoints still happen when a
            // commit finds the WAL over its limit, and the WAL is recovered by whoever opens next. That recovery reads
            // the whole WAL to rebuild its index, in every command's first connection: at SQLite's 1000-page limit the
            // WALs reached 4 MB, so the limit is 64 pages (docs/networking.md, "Set-up cost": 0.9 ms at 500 pages).
            SQLitePCL.raw.sqlite3_db_config(connection.Handle, SQLitePCL.raw.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, out _);
            connection.Execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 64;");
            prepare(connection);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static int Execute(this SqliteConnection connection, string sql, SqliteTransaction? transaction = null, params (string Name, object Value)[] parameters)
    {
        using var command = connection.Command(sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    /// <summary>Every row of a query, each turned into a value by <paramref name="read"/>.</summary>
    public static List<T> Query<T>(this SqliteConnection connection, string sql, SqliteTransaction? transaction, Func<SqliteDataReader, T> read,
        params (string Name, object Value)[] parameters)
    {
        using var command = connection.Command(sql, transaction, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
            rows.Add(read(reader));
        return rows;
    }

    public static int Execute(this SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters)
        => transaction.Connection!.Execute(sql, transaction, parameters);

    public static List<T> Query<T>(this SqliteTransaction transaction, string sql, Func<SqliteDataReader, T> read, params (string Name, object Value)[] parameters)
        => transaction.Connection!.Query(sql, transaction, read, parameters);

    public static object? Scalar(this SqliteConnection connection, string sql, SqliteTransaction? transaction, params (string Name, object Value)[] parameters)
    {
        using var command = connection.Command(sql, transaction, parameters);
        return command.ExecuteScalar();
    }

    public static SqliteCommand Command(this SqliteConnection connection, string sql, SqliteTransaction? transaction, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return command;
    }
}
