using System.Text;
using System.Text.Encodings.Web;

namespace Skiff.Oci;

/// <summary>
/// Escapes only what JSON's grammar requires: quote, backslash and control characters. state.json and config.json
/// are read by programs, never embedded in HTML, and the inbox encoders build a 64K-entry table at their first use
/// (about 0.15 ms of every create, for a '+' or a non-ASCII byte in a path).
/// </summary>
public sealed class JsonSyntaxOnlyEncoder : JavaScriptEncoder
{
    public static readonly JsonSyntaxOnlyEncoder Instance = new();

    private JsonSyntaxOnlyEncoder()
    {
    }

    public override int MaxOutputCharactersPerInputCharacter => 6; // \uXXXX

    public override bool WillEncode(int unicodeScalar) => unicodeScalar < 0x20 || unicodeScalar is '"' or '\\';

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (int i = 0; i < textLength; i++)
        {
            if (WillEncode(text[i]))
                return i;
        }
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        if (!WillEncode(unicodeScalar))
        {
            if (!Rune.TryCreate(unicodeScalar, out var rune) || !rune.TryEncodeToUtf16(new Span<char>(buffer, bufferLength), out numberOfCharactersWritten))
            {
                numberOfCharactersWritten = 0;
                return false;
            }
            return true;
        }
        var escaped = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ => $"\\u{unicodeScalar:X4}",
        };
        if (escaped.Length > bufferLength)
        {
            numberOfCharactersWritten = 0;
            return false;
        }
        escaped.CopyTo(new Span<char>(buffer, bufferLength));
        numberOfCharactersWritten = escaped.Length;
        return true;
    }
}
