using System.Runtime.InteropServices;

namespace Skiff.Interop;

/// <summary>
/// One libnftables context. It opens its netlink socket when created, so it acts in the network namespace of the
/// thread that created it. Not thread-safe: one context per caller at a time.
/// </summary>
public sealed unsafe class NftablesContext : IDisposable
{
    private readonly NftablesHandle _handle;

    /// <param name="json">Whether list commands answer in nft's JSON (for reading state back) instead of its text.</param>
    public NftablesContext(bool json = false)
    {
        EnsureLibrary(Interop.Nftables.Lib);
        _handle = Interop.Nftables.CtxNew(Interop.Nftables.NFT_CTX_DEFAULT);
        if (_handle.IsInvalid)
            throw new NftablesException(ErrorKind.ResourceExhausted, "nftables: nft_ctx_new failed: out of memory.", "");
        // Buffered, so that the library writes nothing to the process's stdout or stderr and its messages become ours.
        if (Interop.Nftables.CtxBufferOutput(_handle) != 0 || Interop.Nftables.CtxBufferError(_handle) != 0)
        {
            _handle.Dispose();
            throw new NftablesException(ErrorKind.ResourceExhausted, "nftables: cannot buffer the library's output: out of memory.", "");
        }
        if (json)
            Interop.Nftables.CtxOutputSetFlags(_handle, Interop.Nftables.NFT_CTX_OUTPUT_JSON);
    }

    /// <summary>
    /// Runs <paramref name="commands"/> (nft syntax, one command a line or separated by ';') as one batch: every
    /// change in it applies, or none does. Returns what the commands printed (list commands).
    /// </summary>
    /// <exception cref="NftablesException">The library refused the batch; its message starts with the library's own first error.</exception>
    public string Run(string commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var result = Interop.Nftables.RunCmdFromBuffer(_handle, commands);
        var output = Utf8(Interop.Nftables.CtxGetOutputBuffer(_handle));
        var error = Utf8(Interop.Nftables.CtxGetErrorBuffer(_handle));
        if (result != 0)
            throw NftablesException.FromLibrary(error, commands);
        return output;
    }

    public void Dispose() => _handle.Dispose();

    private static string Utf8(byte* text) => text is null ? "" : Marshal.PtrToStringUTF8((nint)text) ?? "";

    /// <summary>Turns a missing library into a sentence that says what to install instead of a DllNotFoundException.</summary>
    internal static void EnsureLibrary(string library)
    {
        if (!NativeLibraries.IsPresent(library))
            throw new NftablesException(ErrorKind.FailedPrecondition, $"{library} is missing: install Debian's libnftables1.", "");
    }
}

/// <summary>A batch libnftables refused, or the library itself missing.</summary>
public sealed class NftablesException : SkiffException
{
    public NftablesException(ErrorKind kind, string message, string libraryText, Exception? inner = null)
        : base(kind, message, inner)
        => LibraryText = libraryText;

    /// <summary>Everything the library wrote to its error buffer (each error, the command it was in, and a marker under the culprit).</summary>
    public string LibraryText { get; }

    /// <summary>The same error with <paramref name="context"/> (what Skiff was doing, naming the object) put first.</summary>
    public NftablesException WithContext(string context) => new(Kind, $"{context}: {Message}", LibraryText, this);

    internal static NftablesException FromLibrary(string text, string commands)
    {
        // libnftables writes "Error: REASON", a line of the input and a line of carets under the culprit. For input
        // from a buffer, 1.0.6 shows the buffer's first line whatever line failed, so the command is named only when
        // the batch is that one line.
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var first = Array.FindIndex(lines, l => l.StartsWith("Error:", StringComparison.Ordinal));
        var reason = first >= 0 ? lines[first]["Error:".Length..].Trim() : lines.Length > 0 ? lines[0] : "the library gave no reason";
        var batch = commands.Split(['\n', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (first >= 0 && batch.Length == 1)
            reason += $" (in `{batch[0]}`)";
        return new NftablesException(KindOf(reason), $"nftables refused the change: {reason.TrimEnd('.')}.", text);
    }

    private static ErrorKind KindOf(string reason)
    {
        // The kernel's errno reaches us only as strerror text inside the library's message.
        foreach (var (errno, kind) in new[]
                 {
                     (Errno.ENOENT, ErrorKind.NotFound), (Errno.EEXIST, ErrorKind.AlreadyExists),
                     (Errno.EPERM, ErrorKind.PermissionDenied), (Errno.EBUSY, ErrorKind.FailedPrecondition),
                     (Errno.ENOMEM, ErrorKind.ResourceExhausted), (Errno.ENOSPC, ErrorKind.ResourceExhausted),
                 })
        {
            if (reason.Contains(SyscallException.Describe(errno), StringComparison.Ordinal))
                return kind;
        }
        return reason.Contains("overlaps", StringComparison.Ordinal) ? ErrorKind.AlreadyExists : ErrorKind.Internal;
    }
}
