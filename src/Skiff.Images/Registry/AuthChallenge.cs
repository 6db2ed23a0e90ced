using System.Text;

namespace Skiff.Images.Registry;

/// <summary>One <c>WWW-Authenticate</c> challenge: its scheme and its auth-params (RFC 7235), e.g.
/// <c>Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"</c>.</summary>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? this[string name] => Parameters.GetValueOrDefault(name);

    /// <summary>Parses the auth-params after the scheme; quoted values may hold commas and backslash escapes.</summary>
    public static AuthChallenge Parse(string scheme, string? parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string text = parameters ?? "";
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i])))
                i++;
            int nameStart = i;
            while (i < text.Length && text[i] != '=' && text[i] != ',')
                i++;
            string name = text[nameStart..i].Trim();
            if (i >= text.Length || text[i] != '=')
                continue;
            i++;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var builder = new StringBuilder();
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                        i++;
                    builder.Append(text[i++]);
                }
                i++;
                value = builder.ToString();
            }
            else
            {
                int valueStart = i;
                while (i < text.Length && text[i] != ',')
                    i++;
                value = text[valueStart..i].Trim();
            }
            if (name.Length > 0)
                result[name] = value;
        }
        return new AuthChallenge(scheme, result);
    }
}
