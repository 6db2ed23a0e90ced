using System.Runtime.InteropServices;

namespace Skiff.Interop;

public static unsafe partial class Interop
{
    /// <summary>The local terminal of `skiff run -it` / `attach`: raw mode while the container's pty is the terminal.</summary>
    public static partial class Terminal
    {
        private const string LibC = "libc.so.6";
        private const int TCSANOW = 0;
        // asm-generic/ioctls.h, which x86-64 and arm64 both use.
        internal const ulong TIOCGWINSZ = 0x5413;

        /// <summary>glibc's struct termios (60 bytes on x86-64 and arm64): kept opaque, only saved, made raw and restored.</summary>
        [StructLayout(LayoutKind.Sequential, Size = 60)]
        public struct Settings
        {
            private uint _inputFlags;
        }

        [LibraryImport(LibC, EntryPoint = "tcgetattr", SetLastError = true)]
        private static partial int GetAttributes(int fd, Settings* settings);

        [LibraryImport(LibC, EntryPoint = "tcsetattr", SetLastError = true)]
        private static partial int SetAttributes(int fd, int actions, Settings* settings);

        [LibraryImport(LibC, EntryPoint = "cfmakeraw")]
        private static partial void MakeRaw(Settings* settings);

        /// <summary>
        /// Puts the terminal on <paramref name="fd"/> in raw mode (no echo, no line editing, no signals from ^C: every
        /// key goes to the container's pty, which does all of that itself) and returns the settings to restore.
        /// </summary>
        public static Settings EnterRawMode(int fd)
        {
            Settings saved, raw;
            Errno.Check(GetAttributes(fd, &saved), "tcgetattr", "terminal");
            raw = saved;
            MakeRaw(&raw);
            Errno.Check(SetAttributes(fd, TCSANOW, &raw), "tcsetattr", "terminal");
            return saved;
        }

        public static void Restore(int fd, Settings saved) => SetAttributes(fd, TCSANOW, &saved);

        /// <summary>The window size of the terminal on <paramref name="fd"/>; null when it is not a terminal.</summary>
        public static (ushort Rows, ushort Columns)? WindowSize(int fd)
        {
            ushort* size = stackalloc ushort[4];
            return Libc.Ioctl(fd, TIOCGWINSZ, size) == 0 ? (size[0], size[1]) : null;
        }
    }

    public static partial class Libc
    {
        internal const ulong TIOCSWINSZ = 0x5414;

        [LibraryImport(LibC, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int Ioctl(int fd, ulong request, void* argument);

        /// <summary>Sets the window size of a pty (struct winsize: rows, columns and two unused pixel sizes).</summary>
        public static void SetWindowSize(FileDescriptor terminal, ushort rows, ushort columns)
        {
            ushort* size = stackalloc ushort[4] { rows, columns, 0, 0 };
            Errno.Check(Ioctl(terminal.Fd, TIOCSWINSZ, size), "ioctl TIOCSWINSZ");
        }
    }
}
