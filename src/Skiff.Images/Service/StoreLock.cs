namespace Skiff.Images.Service;

/// <summary>
/// The store's garbage-collection lock, an flock on <c>&lt;root&gt;/lock</c>: pulls and rootfs preparation hold it
/// shared while they create files the database does not list yet, garbage collection holds it exclusive, so it never
/// mistakes a pull in progress for the leftovers of a crashed one. The kernel drops the lock of a killed process.
/// </summary>
/// <remarks>.NET's FileStream takes the flock itself (LOCK_SH for read access shared with others, LOCK_EX for
/// FileShare.None), non-blocking; waiting is a poll.</remarks>
internal sealed class StoreLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private readonly FileStream _file;

    private StoreLock(FileStream file) => _file = file;

    public static StoreLock Shared(string path, TimeSpan timeout) => Acquire(path, exclusive: false, timeout);

    public static StoreLock Exclusive(string path, TimeSpan timeout) => Acquire(path, exclusive: true, timeout);

    private static StoreLock Acquire(string path, bool exclusive, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new StoreLock(new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate,
                    Access = exclusive ? FileAccess.ReadWrite : FileAccess.Read,
                    Share = exclusive ? FileShare.None : FileShare.ReadWrite,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                }));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(PollInterval);
            }
            catch (IOException error)
            {
                throw new ImageException(ErrorKind.Conflict, exclusive
                    ? $"{path}: pulls still running after {timeout.TotalSeconds:0} s; try again when they are done"
                    : $"{path}: an image removal is still running after {timeout.TotalSeconds:0} s; try again", error);
            }
        }
    }

    public void Dispose() => _file.Dispose();
}
