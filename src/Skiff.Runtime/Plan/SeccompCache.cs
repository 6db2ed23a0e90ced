using System.IO.Hashing;
using System.Text;
using Skiff.Interop;
using Skiff.Oci;
using Skiff.Seccomp;

namespace Skiff.Runtime.Plan;

/// <summary>
/// Compiled seccomp programs, kept under the state root by the hash of the profile. libseccomp takes ~13 ms to
/// compile Docker's default profile (three architectures, ~350 syscalls), more than the rest of a container start;
/// every container of an engine uses the same profile, so it is compiled once (crun keeps such a cache too).
/// A file holds the flags and instructions followed by their XXH128, and is replaced atomically: a torn or truncated
/// file fails the check and the profile is compiled again. XXH128 rather than SHA-256: .NET's SHA-256 is OpenSSL's,
/// which a static skiff-runtime would have to dlopen along with a second libc. Only root can write the state root,
/// and root could replace this binary as well, so the checksum guards against accidents, not against tampering.
/// </summary>
public sealed class SeccompCache(string directory)
{
    /// <summary>What else the program depends on: the libseccomp linked into this binary.</summary>
    private static readonly string Compiler = CompilerIdentity();

    private const int ChecksumSize = 16;

    public SeccompProgram GetOrCompile(LinuxSeccomp profile)
    {
        string path = Path.Combine(directory, Key(profile) + ".bpf");
        if (TryRead(path) is { } cached)
            return cached;
        var program = SeccompCompiler.Compile(profile);
        TryWrite(path, program);
        return program;
    }

    private static string Key(LinuxSeccomp profile)
    {
        var text = new StringBuilder(Compiler).Append('\n');
        text.Append(profile.DefaultAction).Append('|').Append(profile.DefaultErrnoRet).Append('|')
            .AppendJoin(',', profile.Architectures ?? []).Append('|').AppendJoin(',', profile.Flags ?? []).Append('|')
            .Append(profile.ListenerPath).Append('|').Append(profile.ListenerMetadata).Append('\n');
        foreach (var rule in profile.Syscalls ?? [])
        {
            text.AppendJoin(',', rule.Names ?? []).Append('|').Append(rule.Action).Append('|').Append(rule.ErrnoRet);
            foreach (var arg in rule.Args ?? [])
                text.Append('|').Append(arg.Index).Append(':').Append(arg.Value).Append(':').Append(arg.ValueTwo).Append(':').Append(arg.Op);
            text.Append('\n');
        }
        return Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static SeccompProgram? TryRead(string path)
    {
        byte[] bytes;
        try
        {
            bytes = SmallFile.ReadAllBytes(path);
        }
        catch (IOException)
        {
            return null;
        }
        int body = bytes.Length - ChecksumSize;
        if (body < 8 || body % 8 != 0 || !XxHash128.Hash(bytes.AsSpan(0, body)).AsSpan().SequenceEqual(bytes.AsSpan(body)))
            return null;
        var words = new ulong[body / 8];
        Buffer.BlockCopy(bytes, 0, words, 0, body);
        return new SeccompProgram(words[0], words[1..]);
    }

    private void TryWrite(string path, SeccompProgram program)
    {
        var words = new ulong[program.Instructions.Length + 1];
        words[0] = program.Flags;
        program.Instructions.CopyTo(words, 1);
        var bytes = new byte[words.Length * 8 + ChecksumSize];
        Buffer.BlockCopy(words, 0, bytes, 0, words.Length * 8);
        XxHash128.Hash(bytes.AsSpan(0, words.Length * 8), bytes.AsSpan(words.Length * 8));
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            PrivateStore.EnsureDirectory(directory);
            SmallFile.WriteAllBytes(temporary, bytes, create: true, mode: 0x180 /* 0600 */);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SyscallException)
        {
            // A cache that cannot be written (read-only or full state root) only costs the next start a compile.
            File.Delete(temporary);
        }
    }

    private static string CompilerIdentity()
    {
        var self = new FileInfo(Environment.ProcessPath ?? "");
        return self.Exists ? $"{self.FullName}:{self.Length}:{self.LastWriteTimeUtc.Ticks}" : "unknown";
    }
}
