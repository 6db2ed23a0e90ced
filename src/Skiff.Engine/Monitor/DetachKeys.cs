namespace Skiff.Engine.Monitor;

/// <summary>
/// `--detach-keys` (docker's default ctrl-p,ctrl-q): a key sequence on an attached stdin that detaches the client
/// and leaves the container running. Bytes that start the sequence but do not complete it are passed on.
/// </summary>
public sealed class DetachKeys
{
    public const string Default = "ctrl-p,ctrl-q";
    private readonly byte[] _sequence;
    private int _matched;

    private DetachKeys(byte[] sequence) => _sequence = sequence;

    /// <summary>docker's syntax: comma-separated keys, each a single character or ctrl-X (X one of a-z @ [ \ ] ^ _).</summary>
    public static DetachKeys Parse(string text)
    {
        var sequence = new List<byte>();
        foreach (var key in text.Split(','))
        {
            if (key.Length == 1 && key[0] is > ' ' and < (char)0x7f)
                sequence.Add((byte)key[0]);
            else if (key.Length == 6 && key.StartsWith("ctrl-", StringComparison.OrdinalIgnoreCase) && char.ToLowerInvariant(key[5]) is >= 'a' and <= 'z')
                sequence.Add((byte)(char.ToLowerInvariant(key[5]) - 'a' + 1));
            else if (key.Length == 6 && key.StartsWith("ctrl-", StringComparison.OrdinalIgnoreCase) && key[5] is '@' or '[' or '\\' or ']' or '^' or '_')
                sequence.Add((byte)(key[5] - '@'));
            else
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid detach keys \"{text}\": \"{key}\" is not a key (a character, or ctrl-a ... ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_)");
        }
        return new DetachKeys([.. sequence]);
    }

    /// <summary>
    /// Feeds typed bytes: returns what to send to the container now, and whether the sequence is complete (the
    /// client detaches; the sequence itself is never sent).
    /// </summary>
    public (byte[] Forward, bool Detach) Feed(ReadOnlySpan<byte> input)
    {
        var forward = new List<byte>(input.Length);
        foreach (var b in input)
        {
            if (b == _sequence[_matched])
            {
                if (++_matched == _sequence.Length)
                {
                    _matched = 0;
                    return ([.. forward], true);
                }
                continue;
            }
            forward.AddRange(_sequence.AsSpan(0, _matched));
            _matched = b == _sequence[0] ? 1 : 0;
            if (_matched == 0)
                forward.Add(b);
        }
        return ([.. forward], false);
    }
}
