using System.Text.Json;
using Skiff.Interop;

namespace Skiff.Network.Dns;

/// <summary>
/// The records file the engine writes and the resolver reads: RUNROOT/dns/records.json. It is replaced whole by
/// rename, never edited in place, so the resolver (which watches the directory) reads either the old or the new file.
/// </summary>
public static class DnsRecordsFile
{
    /// <summary>Far more than thousands of containers need; the resolver never reads an unbounded file into memory.</summary>
    public const int MaxSize = 16 << 20;

    /// <summary>RUNROOT/dns: the records, the resolver's pid file and locks. 0700.</summary>
    public static string DirectoryIn(string runRoot) => Path.Combine(runRoot, "dns");

    /// <summary>RUNROOT/dns/records.json, where the engine writes the records.</summary>
    public static string PathIn(string runRoot) => Path.Combine(DirectoryIn(runRoot), "records.json");

    /// <summary>
    /// Validates <paramref name="records"/>, then writes them to a temporary file (0600) beside <paramref name="path"/>,
    /// fsyncs it and renames it over <paramref name="path"/>; the directory is made 0700 if missing. Writers must
    /// serialize among themselves (each writes the whole set): the engine holds its own lock around read-change-write.
    /// </summary>
    /// <exception cref="DnsException">InvalidArgument: a record is not valid; nothing is written.</exception>
    public static void Write(string path, DnsRecords records)
    {
        records.Validate();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        PrivateStore.EnsureDirectory(directory);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(records, DnsJsonContext.Default.DnsRecords);
        // Unique per writer, so two writers never write into one temporary file.
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>The records at <paramref name="path"/>; none (no network, no upstream) when the file does not exist.</summary>
    /// <exception cref="DnsException">InvalidArgument: the file is not valid records JSON, or too big; the message names the file.</exception>
    public static DnsRecords Read(string path)
    {
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            if (stream.Length > MaxSize)
                throw new DnsException(ErrorKind.InvalidArgument, $"the DNS records file {path} is larger than {MaxSize} bytes: remove it and restart the containers of user networks");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new DnsRecords();
        }
        DnsRecords? records;
        try
        {
            records = JsonSerializer.Deserialize(bytes, DnsJsonContext.Default.DnsRecords);
        }
        catch (JsonException e)
        {
            throw new DnsException(ErrorKind.InvalidArgument, $"the DNS records file {path} is not valid: {e.Message}", e);
        }
        if (records is null)
            throw new DnsException(ErrorKind.InvalidArgument, $"the DNS records file {path} holds null instead of records");
        try
        {
            records.Validate();
        }
        catch (DnsException e)
        {
            throw new DnsException(ErrorKind.InvalidArgument, $"the DNS records file {path} is not valid: {e.Message}", e);
        }
        return records;
    }
}
