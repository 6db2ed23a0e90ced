namespace Skiff.Build.Context;

/// <summary>
/// COPY/ADD --chmod: an octal mode ("755", "0644"), which replaces the permission bits, or chmod(1)'s symbolic form
/// ("u+x", "go-w,a+rX"), which BuildKit accepts since Dockerfile 1.14, applied to each entry's own mode.
/// </summary>
public sealed class ModeChange
{
    private readonly uint? _octal;
    private readonly List<(uint Who, char Op, string Permissions)> _clauses = [];

    private ModeChange(uint? octal) => _octal = octal;

    public static ModeChange Parse(string text, string instruction = "COPY")
    {
        var invalid = new BuildException($"{instruction} --chmod={text} is not a mode; give an octal mode such as 755 or a symbolic one such as u+x,go-w");
        if (text.Length > 0 && text.All(c => c is >= '0' and <= '7'))
        {
            uint value = 0;
            foreach (char c in text)
                value = (value << 3) | (uint)(c - '0');
            return value <= 0xFFF ? new ModeChange(value) : throw invalid;
        }
        var change = new ModeChange(null);
        foreach (var clause in text.Split(','))
        {
            int i = 0;
            uint who = 0;
            for (; i < clause.Length && "ugoa".Contains(clause[i]); i++)
                who |= clause[i] switch { 'u' => 0x9C0u, 'g' => 0x438u, 'o' => 0x207u, _ => 0xFFFu };
            if (i == clause.Length || clause[i] is not ('+' or '-' or '='))
                throw invalid;
            char op = clause[i++];
            var permissions = clause[i..];
            if (permissions.Any(c => !"rwxXst".Contains(c)))
                throw invalid;
            change._clauses.Add((who == 0 ? 0xFFFu : who, op, permissions));
        }
        return change;
    }

    /// <summary>The permission bits (07777) for an entry whose st_mode (type included) is <paramref name="mode"/>.</summary>
    public uint Apply(uint mode)
    {
        if (_octal is { } octal)
            return octal;
        uint bits = mode & 0xFFF;
        bool directory = (mode & 0xF000) == 0x4000;
        foreach (var (who, op, permissions) in _clauses)
        {
            uint mask = 0;
            foreach (char c in permissions)
            {
                mask |= c switch
                {
                    'r' => 0x124u,
                    'w' => 0x92u,
                    'x' => 0x49u,
                    // X: execute only for directories and what someone may execute already.
                    'X' => directory || (bits & 0x49) != 0 ? 0x49u : 0,
                    's' => 0xC00u,
                    _ => 0x200u,
                };
            }
            mask &= who;
            bits = op switch
            {
                '+' => bits | mask,
                '-' => bits & ~mask,
                // '=' replaces the classes' rwx bits.
                _ => (bits & ~(who & 0x1FF)) | mask,
            };
        }
        return bits;
    }
}
