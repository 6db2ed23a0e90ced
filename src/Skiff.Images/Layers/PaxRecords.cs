using System.Globalization;
using System.Text;

namespace Skiff.Images.Layers;

/// <summary>
/// POSIX pax extended-header records ("LENGTH KEY=VALUE\n", LENGTH counting the whole record in decimal) with
/// their values as bytes. System.Formats.Tar hands records over as UTF-8 strings, which loses a binary value such
/// as a <c>security.capability</c> xattr; Go's archive/tar (docker, containerd, skopeo, umoci) treats values as
/// byte strings, so real layers carry such values.
/// </summary>
internal static class PaxRecords
{
    public const string XattrPrefix = "SCHILY.xattr.";

    /// <summary>The value of <paramref name="key"/> in the records <paramref name="data"/>; the last one wins, as in Go and GNU tar.</summary>
    public static bool TryFind(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        value = default;
        bool found = false;
        while (data.Length > 0)
        {
            int space = data.IndexOf((byte)' ');
            if (space <= 0 || !int.TryParse(data[..space], NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                || length <= space + 1 || length > data.Length || data[length - 1] != (byte)'\n')
                return found; // malformed: TarReader rejects the entry anyway
            var record = data[(space + 1)..(length - 1)];
            int equals = record.IndexOf((byte)'=');
            if (equals > 0 && record[..equals].SequenceEqual(key))
            {
                value = record[(equals + 1)..];
                found = true;
            }
            data = data[length..];
        }
        return found;
    }

    /// <summary>Appends one record for <paramref name="key"/> = <paramref name="value"/> to <paramref name="output"/>.</summary>
    public static void Append(List<byte> output, string key, ReadOnlySpan<byte> value)
    {
        int body = 1 + Encoding.UTF8.GetByteCount(key) + 1 + value.Length + 1; // ' ' KEY '=' VALUE '\n'
        // The length counts its own digits: the smallest total whose digit count is consistent.
        int length = body + 1;
        while (length.ToString(CultureInfo.InvariantCulture).Length + body != length)
            length++;
        output.AddRange(Encoding.ASCII.GetBytes(length.ToString(CultureInfo.InvariantCulture)));
        output.Add((byte)' ');
        output.AddRange(Encoding.UTF8.GetBytes(key));
        output.Add((byte)'=');
        output.AddRange(value);
        output.Add((byte)'\n');
    }
}
