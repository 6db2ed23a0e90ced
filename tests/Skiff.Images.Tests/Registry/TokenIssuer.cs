using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Skiff.Images.Tests.Registry;

/// <summary>
/// A docker token endpoint for the reference registry's <c>auth: token</c>: an ES256 key with a self-signed
/// certificate (the registry's rootcertbundle), JWTs carrying the certificate in <c>x5c</c> and granting the scopes
/// asked for, to anonymous callers or to one user with Basic credentials. Served by a <see cref="FakeRegistry"/>
/// listener at <c>/token</c>.
/// </summary>
internal sealed class TokenIssuer : IDisposable
{
    public const string Service = "skiff-test-registry";
    public const string Issuer = "skiff-test-issuer";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;
    private readonly FakeRegistry _server = new();
    private int _issued;

    public TokenIssuer(string? user = null, string? password = null)
    {
        var request = new CertificateRequest("CN=skiff test token issuer", _key, HashAlgorithmName.SHA256);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1));
        _server.Intercept = async context =>
        {
            var query = context.Request.QueryString;
            string? authorization = context.Request.Headers["Authorization"];
            string? subject = null;
            if (authorization is not null)
            {
                string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
                if (user is null || authorization != expected)
                {
                    context.Response.StatusCode = 401;
                    context.Response.Close();
                    return true;
                }
                subject = user;
            }
            if (user is not null && subject is null || query["service"] != Service)
            {
                context.Response.StatusCode = 401;
                context.Response.Close();
                return true;
            }
            Interlocked.Increment(ref _issued);
            LastScope = query["scope"];
            byte[] body = Encoding.UTF8.GetBytes($"{{\"token\":\"{Issue(subject ?? "", query.GetValues("scope") ?? [])}\",\"expires_in\":300}}");
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
            return true;
        };
    }

    public string Realm => $"http://{_server.Host}/token";
    public int Issued => _issued;
    public string? LastScope { get; private set; }

    /// <summary>The registry's <c>auth:</c> section; writes the certificate bundle into <paramref name="directory"/>.</summary>
    public string AuthConfig(string directory)
    {
        string bundle = Path.Combine(directory, "token-ca.pem");
        File.WriteAllText(bundle, _certificate.ExportCertificatePem());
        return $"auth:\n  token:\n    realm: {Realm}\n    service: {Service}\n    issuer: {Issuer}\n    rootcertbundle: {bundle}\n";
    }

    /// <summary>A signed JWT granting <paramref name="scopes"/> (<c>repository:name:pull,push</c>).</summary>
    public string Issue(string subject, IEnumerable<string> scopes)
    {
        string header = Json(writer =>
        {
            writer.WriteString("typ", "JWT");
            writer.WriteString("alg", "ES256");
            writer.WriteStartArray("x5c");
            writer.WriteStringValue(Convert.ToBase64String(_certificate.RawData));
            writer.WriteEndArray();
        });
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string claims = Json(writer =>
        {
            writer.WriteString("iss", Issuer);
            writer.WriteString("sub", subject);
            writer.WriteString("aud", Service);
            writer.WriteNumber("exp", now + 300);
            writer.WriteNumber("nbf", now - 10);
            writer.WriteNumber("iat", now);
            writer.WriteString("jti", Convert.ToHexString(RandomNumberGenerator.GetBytes(8)));
            writer.WriteStartArray("access");
            foreach (string scope in scopes)
            {
                var parts = scope.Split(':');
                if (parts.Length != 3)
                    continue;
                writer.WriteStartObject();
                writer.WriteString("type", parts[0]);
                writer.WriteString("name", parts[1]);
                writer.WriteStartArray("actions");
                foreach (string action in parts[2].Split(','))
                    writer.WriteStringValue(action);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        });
        string signingInput = Base64Url(Encoding.UTF8.GetBytes(header)) + "." + Base64Url(Encoding.UTF8.GetBytes(claims));
        // ES256 in JWS is r||s, which is .NET's default (IEEE P1363) signature format.
        byte[] signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return signingInput + "." + Base64Url(signature);
    }

    public void Dispose()
    {
        _server.Dispose();
        _certificate.Dispose();
        _key.Dispose();
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
